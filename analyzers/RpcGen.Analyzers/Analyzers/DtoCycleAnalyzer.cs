using System.Collections.Concurrent;
using System.Collections.Immutable;
using System.Linq;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.Diagnostics;
using RpcGen.Generators.Shared;

namespace RpcGen.Analyzers;

/// <summary>
/// Reports a DTO a contract carries whose values can hold another value of the same type (RPC0028, info): a
/// tree or a list through members, collections or known subtypes. That is legal, but only finite values
/// travel: a graph that loops back on itself cannot be sent, and a value nested deeper than the reader's
/// depth limit fails the call.
/// </summary>
[DiagnosticAnalyzer(LanguageNames.CSharp)]
public sealed class DtoCycleAnalyzer : DiagnosticAnalyzer
{
    /// <inheritdoc/>
    public override ImmutableArray<DiagnosticDescriptor> SupportedDiagnostics { get; } = ImmutableArray.Create(
        DiagnosticDescriptors.DtoCycle);

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

            // One report per cycle, however many services carry it and whichever of its types a service meets first.
            var reported = new ConcurrentDictionary<string, bool>(System.StringComparer.Ordinal);
            start.RegisterSymbolAction(
                symbol => AnalyzeService(symbol, symbols, reported),
                SymbolKind.NamedType);
        });
    }

    private static void AnalyzeService(SymbolAnalysisContext context, RpcSymbols symbols, ConcurrentDictionary<string, bool> reported)
    {
        var service = (INamedTypeSymbol)context.Symbol;
        if (!symbols.IsService(service) || service.IsGenericType)
        {
            return;
        }

        foreach (var dto in ContractTypes.ReachableDtos(service, symbols))
        {
            if (ContractTypes.CyclePath(dto) is not { } path)
            {
                continue;
            }

            var cycle = string.Join("|", path.Select(s => s.From).OfType<INamedTypeSymbol>().Where(ContractTypes.IsUserDto)
                .Select(t => t.ToDisplayString(RpcContractRules.IdFormat)).Distinct().OrderBy(n => n, System.StringComparer.Ordinal));
            if (!reported.TryAdd(cycle, true))
            {
                continue;
            }

            var first = path.First(s => s.Member is not null || s.FromShape == TypeShape.Polymorphic);
            var location = first.Member is { } member ? Locations.Of(member, service) : Locations.Of(dto, service);
            context.ReportDiagnostic(Diagnostic.Create(
                DiagnosticDescriptors.DtoCycle,
                location,
                dto.Name,
                dto.Name + string.Concat(path.Select(s => s.Text))));
        }
    }
}
