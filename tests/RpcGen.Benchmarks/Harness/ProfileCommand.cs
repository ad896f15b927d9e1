using System.Diagnostics;

namespace RpcGen.Benchmarks.Harness;

/// <summary>
/// <c>--profile</c>: runs one cell (peer, link, workload, callers) for a fixed time, long enough to
/// attach <c>dotnet-trace</c> (the process id is printed), and lists which types the allocations
/// per call are made of.
/// </summary>
public static class ProfileCommand
{
    public static async Task<int> RunAsync(string[] args, Func<string[], string, string?> value)
    {
        var options = BenchmarkCli.ParseOptions(args);
        var peer = options.Peers.Count == 1 ? options.Peers[0] : PeerKind.RpcGen;
        var link = options.Links.Count >= 1 ? options.Links[0] : LinkKind.Tcp;
        var workload = BenchmarkCli.ParseWorkload(value(args, "--workload") ?? "small");
        var callers = int.Parse(value(args, "--callers") ?? "1", System.Globalization.CultureInfo.InvariantCulture);
        var seconds = double.Parse(value(args, "--seconds") ?? "10", System.Globalization.CultureInfo.InvariantCulture);

        Console.WriteLine($"pid {Environment.ProcessId}: {peer.Display()} {link} {workload} x{callers} for {seconds} s");
        await using var session = await PeerFactory.StartAsync(peer, link).ConfigureAwait(false);
        await session.VerifyAsync().ConfigureAwait(false);
        var driver = session.CreateUnaryDriver(workload, out var reason)
            ?? throw new InvalidOperationException($"{peer.Display()} cannot run {workload}: {reason}");

        // The recorders are allocated before sampling starts so that only the calls are sampled.
        var recorders = Enumerable.Range(0, callers).Select(_ => new CallerRecorder((int)(seconds * 400_000 / callers) + 16)).ToArray();
        var tasks = new Task[callers];
        await CompareSuite.RunPhaseAsync(driver, recorders, tasks, TimeSpan.FromSeconds(1), options.Timeout).ConfigureAwait(false);

        using var sampler = new AllocationSampler();
        GC.Collect();
        var allocatedBefore = GC.GetTotalAllocatedBytes(precise: true);
        sampler.Start();
        var clock = Stopwatch.StartNew();
        await CompareSuite.RunPhaseAsync(driver, recorders, tasks, TimeSpan.FromSeconds(seconds), options.Timeout).ConfigureAwait(false);
        sampler.Stop();
        var calls = recorders.Sum(r => r.Count);
        var bytesPerCall = (double)(GC.GetTotalAllocatedBytes(precise: true) - allocatedBefore) / calls;
        Console.WriteLine($"{calls:N0} calls in {clock.Elapsed.TotalSeconds:0.0} s = {calls / clock.Elapsed.TotalSeconds:N0} calls/s, {bytesPerCall:0} B/call (client + server)");

        var samples = sampler.Snapshot();
        var sampled = samples.Sum(s => s.Bytes);
        Console.WriteLine();
        Console.WriteLine("| type | share of sampled bytes | ≈ B/call |");
        Console.WriteLine("|---|---:|---:|");
        foreach (var (type, _, bytes) in samples.Take(25))
        {
            // Sampled shares scaled to the measured bytes per call.
            var perCall = sampled == 0 ? 0 : bytesPerCall * bytes / sampled;
            Console.WriteLine($"| `{type}` | {100.0 * bytes / sampled:0.0}% | {perCall:0} |");
        }

        return 0;
    }
}
