using System.Collections.Immutable;
using System.Globalization;
using System.Linq;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.Diagnostics;

namespace RpcGen.Analyzers;

/// <summary>
/// Checks <c>[RpcKnownType]</c> lists (RPC0012): each subtype derives from (or implements) the attributed
/// type, and no subtype or tag appears twice.
/// </summary>
[DiagnosticAnalyzer(LanguageNames.CSharp)]
public sealed class KnownTypeAnalyzer : DiagnosticAnalyzer
{
    /// <inheritdoc/>
    public override ImmutableArray<DiagnosticDescriptor> SupportedDiagnostics { get; } = ImmutableArray.Create(
        DiagnosticDescriptors.InvalidKnownType);

    /// <inheritdoc/>
    public override void Initialize(AnalysisContext context)
    {
        context.EnableConcurrentExecution();
        context.ConfigureGeneratedCodeAnalysis(GeneratedCodeAnalysisFlags.None);
        context.RegisterCompilationStartAction(start =>
        {
            if (RpcSymbols.Create(start.Compilation) is not { RpcKnownType: not null } symbols)
            {
                return;
            }

            start.RegisterSymbolAction(c => Analyze(c, symbols), SymbolKind.NamedType);
        });
    }

    private static void Analyze(SymbolAnalysisContext context, RpcSymbols symbols)
    {
        var type = (INamedTypeSymbol)context.Symbol;
        var entries = RpcSymbols.FindAll(type, symbols.RpcKnownType)
            .Where(a => RpcSymbols.TryGetArgument(a, 2, 0, out INamedTypeSymbol _) && RpcSymbols.TryGetArgument(a, 2, 1, out int _))
            .Select(a => new { Attribute = a, Subtype = (INamedTypeSymbol)a.ConstructorArguments[0].Value!, Tag = (int)a.ConstructorArguments[1].Value! })
            .ToList();

        foreach (var entry in entries)
        {
            if (!KnownTypes.DerivesFrom(entry.Subtype, type))
            {
                var relation = type.TypeKind == TypeKind.Interface ? "implement" : "derive from";
                Report(context, entry.Attribute, 0, "subtype", type, $"'{entry.Subtype.Name}' does not {relation} '{type.Name}'");
            }
        }

        foreach (var group in entries.GroupBy(e => e.Subtype, SymbolEqualityComparer.Default).Where(g => g.Count() > 1))
        {
            foreach (var entry in group.Skip(1))
            {
                Report(context, entry.Attribute, 0, "subtype", type, $"'{entry.Subtype.Name}' is listed more than once");
            }
        }

        foreach (var group in entries.GroupBy(e => e.Tag).Where(g => g.Count() > 1))
        {
            var members = group.ToList();
            for (var i = 0; i < members.Count; i++)
            {
                var other = members[i == 0 ? 1 : 0];
                if (SymbolEqualityComparer.Default.Equals(members[i].Subtype, other.Subtype))
                {
                    // The same subtype twice with the same tag is one mistake, reported above.
                    continue;
                }

                Report(
                    context,
                    members[i].Attribute,
                    1,
                    "tag",
                    type,
                    $"tag {members[i].Tag.ToString(CultureInfo.InvariantCulture)} of '{members[i].Subtype.Name}' is also the tag of '{other.Subtype.Name}'");
            }
        }
    }

    private static void Report(SymbolAnalysisContext context, AttributeData attribute, int position, string parameterName, INamedTypeSymbol type, string problem) =>
        context.ReportDiagnostic(Diagnostic.Create(
            DiagnosticDescriptors.InvalidKnownType,
            Locations.AttributeArgumentOf(attribute, parameterName, position, type),
            type.Name,
            problem));
}
