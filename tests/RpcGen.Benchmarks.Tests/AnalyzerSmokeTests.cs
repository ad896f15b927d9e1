using RpcGen.Benchmarks.Analyzers;

namespace RpcGen.Benchmarks.Tests;

/// <summary>
/// Runs the <c>--analyzers</c> mode on three services: the generated contracts compile, every analyzer is
/// timed, nothing is reported, and the report is well formed. No timing is judged.
/// </summary>
public sealed class AnalyzerSmokeTests
{
    [Fact]
    public async Task EveryAnalyzerRunsOverCleanContractsAndTheReportIsWellFormed()
    {
        var report = await AnalyzerSuite.RunAsync(interfaces: 3, runs: 2, "smoke", TextWriter.Null).WaitAsync(TimeSpan.FromMinutes(2));

        Assert.Equal(2, report.AnalyzerSeconds.Count);
        Assert.Equal(2, report.CompilerSeconds.Count);
        Assert.Equal(AnalyzerSuite.Analyzers.Select(a => a.GetType().Name).Order(StringComparer.Ordinal), report.PerAnalyzerSeconds.Keys.Order(StringComparer.Ordinal));
        Assert.All(report.PerAnalyzerSeconds.Values, times => Assert.Equal(2, times.Count));

        // The generated contracts are clean: a finding would mean the benchmark times error paths, not a real contract.
        Assert.Empty(report.Diagnostics);

        var markdown = report.Render();
        Assert.Contains("| all RpcGen analyzers |", markdown, StringComparison.Ordinal);
        Assert.Contains("| UndisposedResourceAnalyzer |", markdown, StringComparison.Ordinal);
        Assert.Contains("3 services", markdown, StringComparison.Ordinal);
    }
}
