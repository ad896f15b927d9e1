using System.Collections.Immutable;
using System.Linq;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.Diagnostics;

namespace RpcGen.Analyzers;

/// <summary>
/// In a project that references the capability transport, reports <c>[RpcKnownType]</c> tags listed out of
/// ascending order (RPC0031): the generator builds the Cap'n Proto union of a known-type base in tag order,
/// so the schema (and the union's discriminants 0, 1, 2…) would not follow the order the source lists.
/// </summary>
[DiagnosticAnalyzer(LanguageNames.CSharp)]
public sealed class CapnpUnionOrderAnalyzer : DiagnosticAnalyzer
{
    /// <inheritdoc/>
    public override ImmutableArray<DiagnosticDescriptor> SupportedDiagnostics { get; } = ImmutableArray.Create(
        DiagnosticDescriptors.CapnpUnionOrder);

    /// <inheritdoc/>
    public override void Initialize(AnalysisContext context)
    {
        context.EnableConcurrentExecution();
        context.ConfigureGeneratedCodeAnalysis(GeneratedCodeAnalysisFlags.None);
        context.RegisterCompilationStartAction(start =>
        {
            if (RpcSymbols.Create(start.Compilation) is not { ReferencesCapabilityTransport: true })
            {
                return;
            }

            start.RegisterSymbolAction(Analyze, SymbolKind.NamedType);
        });
    }

    private static void Analyze(SymbolAnalysisContext context)
    {
        var type = (INamedTypeSymbol)context.Symbol;
        var known = KnownTypes.Tagged(type).ToList();
        for (var i = 1; i < known.Count; i++)
        {
            // The first tag lower than one listed before it: one squiggle per misplaced subtype.
            var highest = known.Take(i).OrderByDescending(k => k.Tag).First();
            if (known[i].Tag < highest.Tag)
            {
                context.ReportDiagnostic(Diagnostic.Create(
                    DiagnosticDescriptors.CapnpUnionOrder,
                    Locations.AttributeArgumentOf(known[i].Attribute, "tag", 1, type),
                    type.Name,
                    known[i].Subtype.Name,
                    known[i].Tag,
                    highest.Subtype.Name,
                    highest.Tag));
            }
        }
    }
}
