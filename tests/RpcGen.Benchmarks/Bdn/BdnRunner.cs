using BenchmarkDotNet.Columns;
using BenchmarkDotNet.Configs;
using BenchmarkDotNet.Diagnosers;
using BenchmarkDotNet.Exporters;
using BenchmarkDotNet.Jobs;
using BenchmarkDotNet.Loggers;
using BenchmarkDotNet.Running;
using BenchmarkDotNet.Toolchains.InProcess.Emit;
using RpcGen.Benchmarks.Harness;

namespace RpcGen.Benchmarks.Bdn;

/// <summary>Runs the BenchmarkDotNet suite in process (no per-benchmark rebuild), exporting GitHub Markdown into results/bdn.</summary>
public static class BdnRunner
{
    public static int Run(string[] args)
    {
        var quick = args.Contains("--quick");
        var separator = Array.IndexOf(args, "--");
        var bdnArgs = separator >= 0 ? args[(separator + 1)..] : [];
        if (!bdnArgs.Contains("--filter") && !bdnArgs.Contains("-f"))
        {
            bdnArgs = [.. bdnArgs, "--filter", "*"];
        }

        // In process, so that running the harness under `taskset -c 0` pins the measured code too.
        var job = Job.Default
            .WithToolchain(InProcessEmitToolchain.Instance)
            .WithWarmupCount(quick ? 2 : 6)
            .WithIterationCount(quick ? 5 : 15);
        if (quick)
        {
            job = job.WithIterationTime(Perfolizer.Horology.TimeInterval.FromMilliseconds(150));
        }

        var config = ManualConfig.CreateEmpty()
            .AddJob(job)
            .AddDiagnoser(MemoryDiagnoser.Default)
            .AddColumnProvider(DefaultColumnProviders.Instance)
            .AddLogger(ConsoleLogger.Default)
            .AddExporter(MarkdownExporter.GitHub)
            .WithArtifactsPath(Path.Combine(BenchmarkCli.FindProjectDirectory(), "results", "bdn"));
        var summaries = BenchmarkSwitcher.FromTypes([typeof(UnarySmallBenchmarks)]).Run(bdnArgs, config);
        return summaries.Any(s => s.HasCriticalValidationErrors || s.Reports.Any(r => !r.Success)) ? 1 : 0;
    }
}
