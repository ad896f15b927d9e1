using System.Collections.Immutable;
using System.Globalization;
using System.Linq;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.Diagnostics;
using RpcGen.Generators.Shared;

namespace RpcGen.Analyzers;

/// <summary>
/// In a project that references the capability transport, checks how a service that pins Cap'n Proto
/// ordinals numbers its interface, with the numbering the generator uses
/// (<see cref="RpcContractRules.CapnpOrdinals"/>, <see cref="RpcContractRules.CapnpInterfaceId"/>): ordinals
/// that skip numbers (RPC0029), unpinned methods among pinned ones (RPC0030), and a derived interface id
/// (RPC0032). A service that pins nothing is numbered in declaration order and is not reported.
/// </summary>
[DiagnosticAnalyzer(LanguageNames.CSharp)]
public sealed class CapnpNumberingAnalyzer : DiagnosticAnalyzer
{
    /// <inheritdoc/>
    public override ImmutableArray<DiagnosticDescriptor> SupportedDiagnostics { get; } = ImmutableArray.Create(
        DiagnosticDescriptors.CapnpOrdinalGap,
        DiagnosticDescriptors.CapnpUnpinnedAmongPinned,
        DiagnosticDescriptors.CapnpDerivedInterfaceId);

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

        var methods = symbols.OwnedMethods(service).ToList();
        var pinned = methods.Select(RpcContractRules.PinnedOrdinal).ToList();
        if (pinned.All(p => p is null))
        {
            return;
        }

        var ordinals = RpcContractRules.CapnpOrdinals(pinned);
        var unused = Enumerable.Range(0, methods.Count).Except(ordinals).ToList();
        for (var i = 0; i < methods.Count; i++)
        {
            var method = methods[i];
            var name = method.ContainingType.Name + "." + method.Name;
            if (pinned[i] is { } ordinal && ordinal >= methods.Count && unused.Count > 0)
            {
                var attribute = RpcSymbols.Find(method, symbols.RpcMethod)!;
                context.ReportDiagnostic(Diagnostic.Create(
                    DiagnosticDescriptors.CapnpOrdinalGap,
                    Locations.AttributeArgumentOf(attribute, "ordinal", 0, method),
                    name,
                    ordinal,
                    service.Name,
                    methods.Count.ToString(CultureInfo.InvariantCulture) + (methods.Count == 1 ? " method" : " methods"),
                    string.Join(", ", unused.Select(u => "@" + u.ToString(CultureInfo.InvariantCulture)))));
            }
            else if (pinned[i] is null)
            {
                context.ReportDiagnostic(Diagnostic.Create(
                    DiagnosticDescriptors.CapnpUnpinnedAmongPinned,
                    Locations.Of(method, service),
                    name,
                    service.Name,
                    ordinals[i],
                    i));
            }
        }

        if (RpcContractRules.PinnedServiceId(service) == 0)
        {
            context.ReportDiagnostic(Diagnostic.Create(
                DiagnosticDescriptors.CapnpDerivedInterfaceId,
                Locations.Of(service, service),
                service.Name,
                "0x" + RpcContractRules.CapnpInterfaceId(service).ToString("x16", CultureInfo.InvariantCulture)));
        }
    }
}
