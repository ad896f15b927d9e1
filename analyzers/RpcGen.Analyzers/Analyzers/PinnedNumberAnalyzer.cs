using System.Collections.Immutable;
using System.Globalization;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.Diagnostics;

namespace RpcGen.Analyzers;

/// <summary>
/// Checks the numbers users pin with attributes (RPC0011): <c>[RpcService(0)]</c> (zero means "derive"),
/// negative <c>[RpcMethod]</c> ordinals, <c>[RpcMember]</c> positions and <c>[RpcKnownType]</c> tags.
/// </summary>
[DiagnosticAnalyzer(LanguageNames.CSharp)]
public sealed class PinnedNumberAnalyzer : DiagnosticAnalyzer
{
    /// <inheritdoc/>
    public override ImmutableArray<DiagnosticDescriptor> SupportedDiagnostics { get; } = ImmutableArray.Create(
        DiagnosticDescriptors.OutOfRange);

    /// <inheritdoc/>
    public override void Initialize(AnalysisContext context)
    {
        context.EnableConcurrentExecution();
        context.ConfigureGeneratedCodeAnalysis(GeneratedCodeAnalysisFlags.None);
        context.RegisterCompilationStartAction(start =>
        {
            if (RpcSymbols.Create(start.Compilation) is not { } symbols)
            {
                return;
            }

            start.RegisterSymbolAction(c => AnalyzeType(c, symbols), SymbolKind.NamedType);
            start.RegisterSymbolAction(c => AnalyzeMethod(c, symbols), SymbolKind.Method);
            start.RegisterSymbolAction(c => AnalyzeMember(c, symbols), SymbolKind.Field, SymbolKind.Property);
        });
    }

    private static void AnalyzeType(SymbolAnalysisContext context, RpcSymbols symbols)
    {
        var type = (INamedTypeSymbol)context.Symbol;
        var service = RpcSymbols.Find(type, symbols.RpcService);
        if (RpcSymbols.TryGetArgument(service, 1, 0, out ulong id) && id == 0)
        {
            context.ReportDiagnostic(Diagnostic.Create(
                DiagnosticDescriptors.OutOfRange,
                Locations.AttributeArgumentOf(service!, "id", 0, type),
                "Service id 0 of '" + type.Name + "'",
                "zero means 'derive the id from the name'; remove the argument or pin a non-zero id"));
        }

        foreach (var knownType in RpcSymbols.FindAll(type, symbols.RpcKnownType))
        {
            if (RpcSymbols.TryGetArgument(knownType, 2, 1, out int tag) && tag < 0)
            {
                context.ReportDiagnostic(Diagnostic.Create(
                    DiagnosticDescriptors.OutOfRange,
                    Locations.AttributeArgumentOf(knownType, "tag", 1, type),
                    "Known-type tag " + tag.ToString(CultureInfo.InvariantCulture) + " on '" + type.Name + "'",
                    "tags go from 0 to 2147483647"));
            }
        }
    }

    private static void AnalyzeMethod(SymbolAnalysisContext context, RpcSymbols symbols)
    {
        var method = (IMethodSymbol)context.Symbol;
        var attribute = RpcSymbols.Find(method, symbols.RpcMethod);
        if (RpcSymbols.TryGetArgument(attribute, 1, 0, out int ordinal) && ordinal < 0)
        {
            context.ReportDiagnostic(Diagnostic.Create(
                DiagnosticDescriptors.OutOfRange,
                Locations.AttributeArgumentOf(attribute!, "ordinal", 0, method),
                "Ordinal " + ordinal.ToString(CultureInfo.InvariantCulture) + " of '" + method.ContainingType.Name + "." + method.Name + "'",
                "pinned ordinals go from 0 to 2147483647"));
        }
    }

    private static void AnalyzeMember(SymbolAnalysisContext context, RpcSymbols symbols)
    {
        var member = context.Symbol;
        var attribute = RpcSymbols.Find(member, symbols.RpcMember);
        if (RpcSymbols.TryGetArgument(attribute, 1, 0, out int position) && position < 0)
        {
            context.ReportDiagnostic(Diagnostic.Create(
                DiagnosticDescriptors.OutOfRange,
                Locations.AttributeArgumentOf(attribute!, "position", 0, member),
                "Position " + position.ToString(CultureInfo.InvariantCulture) + " of '" + member.ContainingType.Name + "." + member.Name + "'",
                "member positions go from 0 to 2147483647"));
        }
    }
}
