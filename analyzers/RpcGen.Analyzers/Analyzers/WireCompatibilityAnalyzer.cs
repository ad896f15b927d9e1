using System.Collections.Concurrent;
using System.Collections.Generic;
using System.Collections.Immutable;
using System.Linq;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.Diagnostics;

namespace RpcGen.Analyzers;

/// <summary>
/// Compares each service with the project's checked-in wire contract, <c>RpcContracts.Shipped.txt</c>
/// (see <see cref="ContractBaseline"/>): a removed method or member, a changed id, pinned ordinal,
/// parameter, result or member type, or a member that moved is a break (RPC0026); entries the baseline does
/// not have yet (a new service, an added method, an appended member) are an info whose code fix writes
/// them (RPC0027). Without the file nothing is reported.
/// </summary>
[DiagnosticAnalyzer(LanguageNames.CSharp)]
public sealed class WireCompatibilityAnalyzer : DiagnosticAnalyzer
{
    /// <inheritdoc/>
    public override ImmutableArray<DiagnosticDescriptor> SupportedDiagnostics { get; } = ImmutableArray.Create(
        DiagnosticDescriptors.WireBreak,
        DiagnosticDescriptors.NotInBaseline);

    /// <inheritdoc/>
    public override void Initialize(AnalysisContext context)
    {
        context.EnableConcurrentExecution();
        context.ConfigureGeneratedCodeAnalysis(GeneratedCodeAnalysisFlags.None);
        context.RegisterCompilationStartAction(start =>
        {
            if (RpcSymbols.Create(start.Compilation) is not { } symbols ||
                ContractBaseline.Find(start.Options.AdditionalFiles, start.CancellationToken) is not { } baseline)
            {
                return;
            }

            // Two services carrying the same DTO would each report its member breaks.
            var reported = new ConcurrentDictionary<string, bool>(System.StringComparer.Ordinal);
            start.RegisterSymbolAction(
                symbol => AnalyzeService(symbol, symbols, baseline, reported),
                SymbolKind.NamedType);
        });
    }

    private static void AnalyzeService(SymbolAnalysisContext context, RpcSymbols symbols, ContractBaseline baseline, ConcurrentDictionary<string, bool> reported)
    {
        var service = (INamedTypeSymbol)context.Symbol;
        if (!symbols.IsService(service) || service.IsGenericType)
        {
            return;
        }

        var entries = ContractBaseline.EntriesOf(service, symbols);
        var missing = new List<string>();
        foreach (var entry in entries)
        {
            if (!baseline.TryGet(entry.Key, out var line))
            {
                missing.Add(entry.Line);
            }
            else if (line.Value != entry.Value && reported.TryAdd(entry.Key, true))
            {
                Break(context, Locations.Of(entry.Symbol, service), Title(entry), line, Difference(entry, line.Value));
            }
        }

        var present = new HashSet<string>(entries.Select(e => e.Key), System.StringComparer.Ordinal);
        var serviceName = entries[0].Name;
        // A method renamed under a pinned ordinal keeps its id, parameters and result: the wire does not change.
        var methodValues = new HashSet<string>(entries.Where(e => e.Kind == BaselineEntry.Method).Select(e => e.Value), System.StringComparer.Ordinal);
        foreach (var (key, line) in baseline.Under(BaselineEntry.Method, serviceName + "."))
        {
            if (!present.Contains(key) && !(line.Value.StartsWith("@", System.StringComparison.Ordinal) && methodValues.Contains(line.Value)))
            {
                Break(context, Locations.Of(service, service), "Service '" + serviceName + "'", line,
                    $"method '{key.Substring(BaselineEntry.Method.Length + serviceName.Length + 2)}' is gone; callers built against the shipped contract would get Unimplemented");
            }
        }

        foreach (var dto in entries.Where(e => e.Kind == BaselineEntry.Member).Select(e => e.Symbol.ContainingType).Distinct(SymbolEqualityComparer.Default).Cast<INamedTypeSymbol>())
        {
            var dtoName = dto.ToDisplayString(Generators.Shared.RpcContractRules.IdFormat);
            foreach (var (key, line) in baseline.Under(BaselineEntry.Member, dtoName + "."))
            {
                if (!present.Contains(key) && reported.TryAdd(key, true))
                {
                    Break(context, Locations.Of(dto, service), "DTO '" + dtoName + "'", line,
                        $"member '{key.Substring(BaselineEntry.Member.Length + dtoName.Length + 2)}' is gone; peers on the shipped contract would read the members after it from the wrong positions");
                }
            }
        }

        if (missing.Count > 0)
        {
            context.ReportDiagnostic(Diagnostic.Create(
                DiagnosticDescriptors.NotInBaseline,
                Locations.Of(service, service),
                ImmutableDictionary<string, string?>.Empty.Add(DiagnosticProperties.BaselineLines, string.Join("\n", missing)),
                serviceName,
                missing.Count,
                missing.Count == 1 ? "entry" : "entries",
                missing.Count == 1 ? "it" : "them"));
        }
    }

    private static void Break(SymbolAnalysisContext context, Location location, string what, BaselineLine line, string difference) =>
        context.ReportDiagnostic(Diagnostic.Create(DiagnosticDescriptors.WireBreak, location, what, line.Number, difference));

    private static string Title(BaselineEntry entry) => entry.Kind switch
    {
        BaselineEntry.Service => "Service '" + entry.Name + "'",
        BaselineEntry.Method => "Method '" + entry.Name + "'",
        _ => "Member '" + entry.Name + "'",
    };

    /// <summary>What changed between the shipped value and today's, part by part.</summary>
    private static string Difference(BaselineEntry entry, string shipped)
    {
        switch (entry.Kind)
        {
            case BaselineEntry.Service:
                return $"its id was {shipped} and is now {entry.Value}; peers would not find it";
            case BaselineEntry.Method:
                var (oldId, oldParameters, oldResult) = MethodParts(shipped);
                var (newId, newParameters, newResult) = MethodParts(entry.Value);
                var changes = new List<string>();
                if (oldId != newId)
                {
                    changes.Add(oldId.StartsWith("@", System.StringComparison.Ordinal) && newId.StartsWith("@", System.StringComparison.Ordinal)
                        ? $"its pinned ordinal was {oldId} and is now {newId}"
                        : $"its id was {oldId} and is now {newId}");
                }

                if (oldParameters != newParameters)
                {
                    changes.Add($"its parameters were {oldParameters} and are now {newParameters}");
                }

                if (oldResult != newResult)
                {
                    changes.Add($"its result was {oldResult} and is now {newResult}");
                }

                return string.Join("; ", changes);
            default:
                var (oldPosition, oldType) = MemberParts(shipped);
                var (newPosition, newType) = MemberParts(entry.Value);
                var memberChanges = new List<string>();
                if (oldPosition != newPosition)
                {
                    memberChanges.Add($"its position was {oldPosition} and is now {newPosition} (members were reordered, or one before it removed)");
                }

                if (oldType != newType)
                {
                    memberChanges.Add($"its type was {oldType} and is now {newType}");
                }

                return string.Join("; ", memberChanges);
        }
    }

    // "@3 (int,string) -> Shop.Item"; a hand-edited line that does not split this way compares as a whole.
    private static (string Id, string Parameters, string Result) MethodParts(string value)
    {
        var space = value.IndexOf(' ');
        var arrow = value.LastIndexOf(" -> ", System.StringComparison.Ordinal);
        return space < 0 || arrow < space
            ? (value, "", "")
            : (value.Substring(0, space), value.Substring(space + 1, arrow - space - 1), value.Substring(arrow + 4));
    }

    // "@1 decimal"
    private static (string Position, string Type) MemberParts(string value)
    {
        var space = value.IndexOf(' ');
        return space < 0 ? (value, "") : (value.Substring(0, space), value.Substring(space + 1));
    }
}
