using System.Diagnostics;
using RpcGen.Benchmarks.Harness;

namespace RpcGen.Benchmarks.Capnp;

/// <summary>
/// <c>--capnp [--quick] [--affinity both|pinned|unpinned] [--links tcp,uds] [--out DIR]</c> (or, with
/// <c>--stream-mib N</c>, only <see cref="CapnpStreamRace"/>): runs
/// <see cref="CapnpSuite"/> pinned (in a child under <c>taskset -c 0</c>) and unpinned, as
/// <c>--compare</c> does, writes results/capnp.md and prints it.
/// </summary>
public static class CapnpCommand
{
    /// <summary>The report's file name in the results directory.</summary>
    public const string FileName = "capnp.md";

    private const string Mode = "--capnp";

    private const string PinnedAffinity = "taskset -c 0: the C# client and server, the C++ server and the C++ client all share CPU 0";

    /// <summary>Runs the mode; returns 0 when every pass ran and every cell was measured, 1 otherwise, 2 for bad options.</summary>
    public static async Task<int> RunAsync(string[] args)
    {
        // The streaming row is its own race (a Cap'n Proto stream method against the message transport's download).
        if (BenchmarkCli.Value(args, "--stream-mib") is { } mebibytes)
        {
            return await CapnpStreamRace.RunAsync(args, long.Parse(mebibytes, System.Globalization.CultureInfo.InvariantCulture)).ConfigureAwait(false);
        }

        CapnpOptions options;
        try
        {
            options = ParseOptions(args);
        }
        catch (ArgumentException ex)
        {
            Console.Error.WriteLine(ex.Message);
            return 2;
        }

        if (await TieredJit.RestartWithoutCallCountingDelayAsync(args).ConfigureAwait(false) is { } exitCode)
        {
            return exitCode;
        }

        if (await PinnedChild.TryRunAsChildAsync(args, label => CapnpSuite.RunPassAsync(label, PinnedAffinity, options, Console.Out)).ConfigureAwait(false))
        {
            return 0;
        }

        if (PinnedChild.ParseAffinity(args) is not { } affinity)
        {
            return 2;
        }

        var started = DateTimeOffset.UtcNow;
        var clock = Stopwatch.StartNew();
        var passes = new List<CapnpPass>();
        if (affinity is "both" or "pinned")
        {
            const string label = "pinned";
            var (pass, failure) = await PinnedChild.RunAsync<CapnpPass>(args, Mode, label).ConfigureAwait(false);
            passes.Add(pass ?? new CapnpPass { Label = label, Affinity = "not run", Cpus = 0, Seconds = 0, Cells = [], Failure = failure });
        }

        if (affinity is "both" or "unpinned")
        {
            var cpus = Environment.ProcessorCount;
            var description = cpus == 1 ? "no affinity set by the harness, but only 1 CPU is available to it" : $"no affinity set ({cpus} CPUs)";
            passes.Add(await CapnpSuite.RunPassAsync("unpinned", description, options, Console.Out).ConfigureAwait(false));
        }

        var report = new CapnpReport
        {
            Command = "dotnet run -c Release --project tests/RpcGen.Benchmarks -- " + string.Join(' ', args),
            Options = options,
            Started = started,
            TotalSeconds = clock.Elapsed.TotalSeconds,
            Machine = BenchmarkCli.DescribeMachine(),
            Passes = passes,
        };

        var directory = BenchmarkCli.Value(args, "--out") ?? Path.Combine(BenchmarkCli.FindProjectDirectory(), "results");
        Directory.CreateDirectory(directory);
        var path = Path.Combine(directory, FileName);
        var markdown = CapnpReportWriter.Render(report);
        await File.WriteAllTextAsync(path, markdown).ConfigureAwait(false);
        Console.WriteLine();
        Console.WriteLine(markdown);
        Console.WriteLine($"Wrote {path} in {ReportWriter.Duration(report.TotalSeconds)}.");
        var complete = passes.All(p => p.Failure is null && p.Cells.All(c => c.IsMeasured));
        return complete ? 0 : 1;
    }

    /// <summary>Quick or full settings, narrowed to <c>--links</c> when given.</summary>
    public static CapnpOptions ParseOptions(string[] args)
    {
        var options = args.Contains("--quick") ? CapnpOptions.Quick : CapnpOptions.Full;
        if (BenchmarkCli.Value(args, "--links") is { } links)
        {
            options = options with { Links = [.. links.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries).Select(BenchmarkCli.ParseLink)] };
        }

        return options;
    }
}
