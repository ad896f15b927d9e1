using System.Collections.Concurrent;
using System.Collections.Immutable;
using System.Globalization;
using System.Linq;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.Diagnostics;
using RpcGen.Generators.Shared;

namespace RpcGen.Analyzers;

/// <summary>
/// Checks that the <c>[RpcService]</c> interfaces of a compilation have distinct ids (RPC0010). It needs
/// every service, so it reports at compilation end.
/// </summary>
[DiagnosticAnalyzer(LanguageNames.CSharp)]
public sealed class ServiceIdAnalyzer : DiagnosticAnalyzer
{
    /// <inheritdoc/>
    public override ImmutableArray<DiagnosticDescriptor> SupportedDiagnostics { get; } = ImmutableArray.Create(
        DiagnosticDescriptors.DuplicateServiceId);

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

            var collector = new ServiceCollector(symbols);
            start.RegisterSymbolAction(collector.Collect, SymbolKind.NamedType);
            start.RegisterCompilationEndAction(collector.Report);
        });
    }

    /// <summary>Gathers the services of one compilation (symbol actions run concurrently) and reports clashes at the end.</summary>
    private sealed class ServiceCollector
    {
        private readonly RpcSymbols _symbols;
        private readonly ConcurrentBag<ServiceEntry> _services = new();

        public ServiceCollector(RpcSymbols symbols)
        {
            _symbols = symbols;
        }

        public void Collect(SymbolAnalysisContext context)
        {
            var type = (INamedTypeSymbol)context.Symbol;
            if (!_symbols.IsService(type))
            {
                return;
            }

            var attribute = RpcSymbols.Find(type, _symbols.RpcService)!;
            var pinned = RpcSymbols.TryGetArgument(attribute, 1, 0, out ulong value) ? value : 0UL;
            _services.Add(new ServiceEntry(type, attribute, pinned, RpcContractRules.ServiceId(type, pinned)));
        }

        public void Report(CompilationAnalysisContext context)
        {
            foreach (var group in _services.GroupBy(s => s.Id).Where(g => g.Count() > 1))
            {
                // The bag's order depends on thread timing; sort so each diagnostic names the same other service every time.
                var members = group.OrderBy(s => s.Type.ToDisplayString(RpcContractRules.IdFormat), System.StringComparer.Ordinal).ToList();
                for (var i = 0; i < members.Count; i++)
                {
                    var current = members[i];
                    var other = members[i == 0 ? 1 : 0];
                    var location = current.Pinned != 0
                        ? Locations.AttributeArgumentOf(current.Attribute, "id", 0, current.Type)
                        : Locations.Of(current.Type, current.Type);
                    var id = current.Pinned != 0
                        ? "id " + current.Pinned.ToString(CultureInfo.InvariantCulture)
                        : "derived id 0x" + current.Id.ToString("X16", CultureInfo.InvariantCulture);

                    context.ReportDiagnostic(Diagnostic.Create(
                        DiagnosticDescriptors.DuplicateServiceId,
                        location,
                        current.Type.ToDisplayString(),
                        id,
                        other.Type.ToDisplayString()));
                }
            }
        }
    }

    private sealed class ServiceEntry
    {
        public ServiceEntry(INamedTypeSymbol type, AttributeData attribute, ulong pinned, ulong id)
        {
            Type = type;
            Attribute = attribute;
            Pinned = pinned;
            Id = id;
        }

        public INamedTypeSymbol Type { get; }

        public AttributeData Attribute { get; }

        public ulong Pinned { get; }

        public ulong Id { get; }
    }
}
