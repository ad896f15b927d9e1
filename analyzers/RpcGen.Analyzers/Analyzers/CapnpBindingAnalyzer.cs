using System.Collections.Immutable;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.Diagnostics;
using RpcGen.Generators.Shared;

namespace RpcGen.Analyzers;

/// <summary>
/// In a project that references the capability transport, reports each service method the Cap'n Proto
/// binding cannot carry (RPC0022), at the method, with the rule the generator's Cap'n Proto model applies
/// (<see cref="RpcContractRules.CapnpProblem"/>). The generator's own RPC1001 has no location, so it is hidden.
/// </summary>
[DiagnosticAnalyzer(LanguageNames.CSharp)]
public sealed class CapnpBindingAnalyzer : DiagnosticAnalyzer
{
    /// <inheritdoc/>
    public override ImmutableArray<DiagnosticDescriptor> SupportedDiagnostics { get; } = ImmutableArray.Create(
        DiagnosticDescriptors.NoCapnpForm);

    /// <inheritdoc/>
    public override void Initialize(AnalysisContext context)
    {
        context.EnableConcurrentExecution();
        context.ConfigureGeneratedCodeAnalysis(GeneratedCodeAnalysisFlags.None);
        context.RegisterCompilationStartAction(start =>
        {
            if (RpcSymbols.Create(start.Compilation) is not { ReferencesCapabilityTransport: true } symbols)
            {
                return;
            }

            start.RegisterSymbolAction(symbolContext => Analyze(symbolContext, symbols), SymbolKind.NamedType);
        });
    }

    private static void Analyze(SymbolAnalysisContext context, RpcSymbols symbols)
    {
        var service = (INamedTypeSymbol)context.Symbol;
        if (!symbols.IsService(service))
        {
            return;
        }

        foreach (var method in symbols.OwnedMethods(service))
        {
            if (RpcContractRules.CapnpProblem(method, out _) is { } why)
            {
                context.ReportDiagnostic(Diagnostic.Create(
                    DiagnosticDescriptors.NoCapnpForm,
                    Locations.Of(method, service),
                    method.ContainingType.Name + "." + method.Name,
                    why));
            }
        }
    }
}
