using System.Collections.Immutable;
using System.Globalization;
using System.Linq;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.Diagnostics;
using RpcGen.Generators.Shared;

namespace RpcGen.Analyzers;

/// <summary>
/// Checks that the members a DTO serializes (its own and its bases', as the generator selects them)
/// have distinct <c>[RpcMember]</c> positions (RPC0013).
/// </summary>
[DiagnosticAnalyzer(LanguageNames.CSharp)]
public sealed class MemberPositionAnalyzer : DiagnosticAnalyzer
{
    /// <inheritdoc/>
    public override ImmutableArray<DiagnosticDescriptor> SupportedDiagnostics { get; } = ImmutableArray.Create(
        DiagnosticDescriptors.DuplicateMemberPosition);

    /// <inheritdoc/>
    public override void Initialize(AnalysisContext context)
    {
        context.EnableConcurrentExecution();
        context.ConfigureGeneratedCodeAnalysis(GeneratedCodeAnalysisFlags.None);
        context.RegisterCompilationStartAction(start =>
        {
            if (RpcSymbols.Create(start.Compilation) is not { RpcMember: not null } symbols)
            {
                return;
            }

            start.RegisterSymbolAction(c => Analyze(c, symbols), SymbolKind.NamedType);
        });
    }

    private static void Analyze(SymbolAnalysisContext context, RpcSymbols symbols)
    {
        var type = (INamedTypeSymbol)context.Symbol;
        // Only this type's own members are reported here, so a type that pins none has nothing to report.
        if (type.TypeKind is not (TypeKind.Class or TypeKind.Struct) ||
            !type.GetMembers().Any(m => RpcSymbols.Find(m, symbols.RpcMember) is not null))
        {
            return;
        }

        var pinned = RpcContractRules.SerializedMembers(type)
            .Select(member => new { Member = member, Attribute = RpcSymbols.Find(member, symbols.RpcMember) })
            .Where(m => RpcSymbols.TryGetArgument(m.Attribute, 1, 0, out int _))
            .Select(m => new { m.Member, Attribute = m.Attribute!, Position = (int)m.Attribute!.ConstructorArguments[0].Value! })
            .ToList();

        foreach (var group in pinned.GroupBy(m => m.Position).Where(g => g.Count() > 1))
        {
            var members = group.ToList();
            for (var i = 0; i < members.Count; i++)
            {
                var current = members[i];

                // A clash among a base's own members is reported on the base; here only this type's members.
                if (!SymbolEqualityComparer.Default.Equals(current.Member.ContainingType, type))
                {
                    continue;
                }

                var other = members[i == 0 ? 1 : 0];
                context.ReportDiagnostic(Diagnostic.Create(
                    DiagnosticDescriptors.DuplicateMemberPosition,
                    Locations.AttributeArgumentOf(current.Attribute, "position", 0, current.Member),
                    type.Name + "." + current.Member.Name,
                    current.Position.ToString(CultureInfo.InvariantCulture),
                    other.Member.ContainingType.Name + "." + other.Member.Name));
            }
        }
    }
}
