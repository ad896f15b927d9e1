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
        if (args.Contains("--timeline"))
        {
            await PrintTimelineAsync(driver, recorders, tasks, seconds, options.Timeout).ConfigureAwait(false);
            return 0;
        }

        await CompareSuite.RunPhaseAsync(driver, recorders, tasks, TimeSpan.FromSeconds(1), options.Timeout).ConfigureAwait(false);

        using var sampler = new AllocationSampler();
        GC.Collect();
        var allocatedBefore = GC.GetTotalAllocatedBytes(precise: true);
        sampler.Start();
        using var process = Process.GetCurrentProcess();
        var cpuBefore = process.TotalProcessorTime;
        var clock = Stopwatch.StartNew();
        await CompareSuite.RunPhaseAsync(driver, recorders, tasks, TimeSpan.FromSeconds(seconds), options.Timeout).ConfigureAwait(false);
        sampler.Stop();
        process.Refresh();
        var cpu = process.TotalProcessorTime - cpuBefore;
        var calls = recorders.Sum(r => r.Count);
        var bytesPerCall = (double)(GC.GetTotalAllocatedBytes(precise: true) - allocatedBefore) / calls;
        // CPU time per call (user + system, client + server) moves far less than the rate when
        // other work shares the machine: it counts this process's cycles, not its waits.
        Console.WriteLine($"{calls:N0} calls in {clock.Elapsed.TotalSeconds:0.0} s = {calls / clock.Elapsed.TotalSeconds:N0} calls/s, {bytesPerCall:0} B/call (client + server), {cpu.TotalMicroseconds / calls:0.00} CPU µs/call");

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

    /// <summary>
    /// <c>--timeline</c>: from the first call on, no warmup, calls/s and p50 per half second with the
    /// JIT's running totals, to show when a path reaches its steady state under the current tiering
    /// settings (run it with and without <c>DOTNET_TC_CallCountingDelayMs=0</c>).
    /// </summary>
    private static async Task PrintTimelineAsync(CallerDriver driver, CallerRecorder[] recorders, Task[] tasks, double seconds, TimeSpan timeout)
    {
        var slice = TimeSpan.FromMilliseconds(500);
        var clock = Stopwatch.StartNew();
        Console.WriteLine($"tiering: {TieredJit.Describe(TieredJit.CallCountingDelayMs)}");
        // CPU time a call (the process's user + system time over the calls) moves far less than
        // latency when other work shares the machine: it counts this process's cycles, not its waits.
        Console.WriteLine("| t (s) | calls/s | p50 (µs) | CPU µs/call | methods compiled | JIT time (ms) |");
        Console.WriteLine("|---:|---:|---:|---:|---:|---:|");
        using var process = Process.GetCurrentProcess();
        while (clock.Elapsed.TotalSeconds < seconds)
        {
            process.Refresh();
            var cpuBefore = process.TotalProcessorTime;
            var started = Stopwatch.GetTimestamp();
            await CompareSuite.RunPhaseAsync(driver, recorders, tasks, slice, timeout).ConfigureAwait(false);
            var elapsed = Stopwatch.GetElapsedTime(started);
            process.Refresh();
            var cpu = process.TotalProcessorTime - cpuBefore;
            var latencies = recorders.SelectMany(r => r.Latencies.ToArray()).Order().ToArray();
            var p50 = CompareSuite.Percentile(latencies, 0.5) * 1_000_000.0 / Stopwatch.Frequency;
            var cpuPerCall = latencies.Length == 0 ? 0 : cpu.TotalMicroseconds / latencies.Length;
            Console.WriteLine($"| {clock.Elapsed.TotalSeconds:0.0} | {latencies.Length / elapsed.TotalSeconds:N0} | {p50:0.0} | {cpuPerCall:0.0} | {System.Runtime.JitInfo.GetCompiledMethodCount():N0} | {System.Runtime.JitInfo.GetCompilationTime().TotalMilliseconds:N0} |");
        }
    }
}
