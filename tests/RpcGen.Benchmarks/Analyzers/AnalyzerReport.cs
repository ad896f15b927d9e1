using System.Globalization;
using System.Runtime.InteropServices;
using System.Text;

namespace RpcGen.Benchmarks.Analyzers;

/// <summary>What one <c>--analyzers</c> run measured; seconds are wall-clock, one entry per run.</summary>
public sealed record AnalyzerReport(
    string Command,
    int Interfaces,
    int Runs,
    int SourceLines,
    IReadOnlyList<double> CompilerSeconds,
    IReadOnlyList<double> AnalyzerSeconds,
    IReadOnlyDictionary<string, IReadOnlyList<double>> PerAnalyzerSeconds,
    IReadOnlyDictionary<string, int> Diagnostics,
    double LoadBefore,
    double LoadAfter,
    double TotalSeconds)
{
    /// <summary>The median of <paramref name="values"/>.</summary>
    public static double Median(IReadOnlyList<double> values)
    {
        var sorted = values.Order().ToArray();
        return sorted.Length == 0 ? double.NaN : sorted.Length % 2 == 1 ? sorted[sorted.Length / 2] : (sorted[(sorted.Length / 2) - 1] + sorted[sorted.Length / 2]) / 2;
    }

    /// <summary>The report as results/analyzers.md.</summary>
    public string Render()
    {
        var c = CultureInfo.InvariantCulture;
        var analyzers = Median(AnalyzerSeconds);
        var compiler = Median(CompilerSeconds);
        var text = new StringBuilder();
        text.AppendLine("# RpcGen analyzers: time per interface");
        text.AppendLine();
        text.AppendLine(c, $"Generated {DateTime.UtcNow:yyyy-MM-dd HH:mm} UTC by `{Command}` in {TotalSeconds:0.0} s.");
        text.AppendLine();
        text.AppendLine(c, $"Machine: {Environment.ProcessorCount} CPUs visible, {RuntimeInformation.OSDescription}, .NET {Environment.Version} {RuntimeInformation.ProcessArchitecture}. Load: 1-minute load average {LoadBefore:0.00} → {LoadAfter:0.00}.");
        text.AppendLine();
        text.AppendLine(c, $"The contract assembly ([`AnalyzerContracts`](../Analyzers/AnalyzerContracts.cs)) has {Interfaces} services, each with nine methods (tasks, a one-way call, streams both ways, a callback in and out), a record and a class DTO, a two-subtype `[RpcKnownType]` hierarchy, a callback service and a client class that calls it: {SourceLines:N0} lines. Each of {Runs} run(s) builds a fresh compilation; the compiler column is `Compilation.GetDiagnostics()` (parse, bind, check) and the analyzers column is `GetAnalyzerDiagnosticsAsync` with every RpcGen analyzer, concurrent analysis on (as in a build), on another fresh compilation, so it includes the binding the analyzers need. Medians, with the slowest–fastest range. Only ratios mean anything across machines.");
        text.AppendLine();
        text.AppendLine("| | median | per interface | range |");
        text.AppendLine("|---|---|---|---|");
        text.AppendLine(c, $"| compiler alone | {compiler * 1000:N0} ms | {compiler * 1000 / Interfaces:0.00} ms | {CompilerSeconds.Min() * 1000:N0}–{CompilerSeconds.Max() * 1000:N0} ms |");
        text.AppendLine(c, $"| all RpcGen analyzers | {analyzers * 1000:N0} ms | {analyzers * 1000 / Interfaces:0.00} ms | {AnalyzerSeconds.Min() * 1000:N0}–{AnalyzerSeconds.Max() * 1000:N0} ms |");
        text.AppendLine();
        text.AppendLine(c, $"Analyzers ÷ compiler: {analyzers / compiler:0.00}×.");
        text.AppendLine();
        text.AppendLine("Each analyzer's own execution time as Roslyn's telemetry counts it (summed over its actions, across threads), median per run:");
        text.AppendLine();
        text.AppendLine("| analyzer | median | per interface |");
        text.AppendLine("|---|---|---|");
        foreach (var (name, seconds) in PerAnalyzerSeconds.OrderByDescending(p => Median(p.Value)))
        {
            var median = Median(seconds);
            text.AppendLine(c, $"| {name} | {median * 1000:0.0} ms | {median * 1_000_000 / Interfaces:0} µs |");
        }

        text.AppendLine();
        text.AppendLine("Diagnostics reported (the contract is built to be clean): " +
            (Diagnostics.Count == 0 ? "none." : string.Join(", ", Diagnostics.OrderBy(d => d.Key, StringComparer.Ordinal).Select(d => $"{d.Key} × {d.Value}")) + "."));
        return text.ToString();
    }
}
