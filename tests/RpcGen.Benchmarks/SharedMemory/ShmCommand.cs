using System.Diagnostics;
using System.Globalization;
using System.Text;
using RpcGen.Benchmarks.Bulk;
using RpcGen.Benchmarks.Harness;
using RpcGen.Transport.Message;
using RpcGen.Transport.SharedMemory;

namespace RpcGen.Benchmarks.SharedMemory;

/// <summary>
/// <c>--shm [--quick] [--pin] [--windows K] [--window-kib N] [--spin-us N] [--only unary|concurrent|bulk] [--threads]</c>: the shared-memory transport against its floors and against the
/// message transport over a Unix socket, with the server in a child process (this program again,
/// with <c>--shm-serve</c>). Measures unary round trips (p50/p99), 64 concurrent callers (calls/s),
/// client allocations per call, and a streamed download against memcpy; writes the top of results/shm.md
/// (its <c>## </c> sections, earlier runs written by hand, are kept).
/// <c>--pin</c> (run this process under <c>taskset -c 0</c>) starts the child under
/// <c>taskset -c 1</c> and the floors' responder thread on CPU 1, so each side has its own core,
/// and writes results/shm-pinned.md. <c>--only unary</c> runs the floors and the unary cells alone,
/// <c>--only concurrent</c> the 64-caller cells alone (with their floor, <see cref="ConcurrentEchoFloor"/>, also part of the full run), <c>--only bulk</c> the streamed downloads and memcpy
/// (with <c>--repeat N</c>, N-1 more shm downloads, shm 64-caller cells or default-handler shm unary cells after them, for a profiler; none writes a results file), to iterate on
/// them; <c>--threads</c> prints each cell's context switches and CPU µs per call by thread name.
/// </summary>
public static class ShmCommand
{
    private const string ServeOption = "--shm-serve";
    private const string InlineOption = "--shm-inline";

    // The untimed download that warms each link's streaming path up, and the untimed memcpy pass.
    private const long BulkWarmUpBytes = 64L << 20;

    public static async Task<int> RunAsync(string[] args)
    {
        var options = new SharedMemoryOptions();
        if (BenchmarkCli.Value(args, "--spin-us") is { } spin)
        {
            options.SpinBudget = TimeSpan.FromMicroseconds(double.Parse(spin, CultureInfo.InvariantCulture));
        }

        if (BenchmarkCli.Value(args, "--windows") is { } windows)
        {
            options.WindowsPerDirection = int.Parse(windows, CultureInfo.InvariantCulture);
        }

        if (BenchmarkCli.Value(args, "--window-kib") is { } windowKib)
        {
            options.WindowBytes = int.Parse(windowKib, CultureInfo.InvariantCulture) * 1024;
        }

        SharedMemoryLinks.Register(options);
        if (args.Contains(ConcurrentEchoFloor.ServeOption))
        {
            return ConcurrentEchoFloor.Serve(args);
        }

        if (BenchmarkCli.Value(args, ServeOption) is { } shmAddress)
        {
            await using var server = new RpcServer();
            server.AddService<IShmBenchService>(new ShmBenchService());
            await server.StartAsync(shmAddress, BenchmarkCli.Value(args, "--unix")!).ConfigureAwait(false);

            // The same service with handlers run on the connection's reader (the opt-in), to measure
            // what the thread-pool hop per call costs.
            await using var inline = new RpcServer(new RpcServerOptions { HandlerExecution = RpcHandlerExecution.Inline });
            inline.AddService<IShmBenchService>(new ShmBenchService());
            await inline.StartAsync(BenchmarkCli.Value(args, InlineOption)!).ConfigureAwait(false);
            Console.WriteLine("listening");
            await Console.In.ReadToEndAsync().ConfigureAwait(false);
            return 0;
        }

        var quick = args.Contains("--quick");
        var pin = args.Contains("--pin");
        var only = BenchmarkCli.Value(args, "--only");
        if (only is not null and not ("unary" or "concurrent" or "bulk"))
        {
            Console.Error.WriteLine($"--only takes unary, concurrent or bulk, not '{only}'.");
            return 1;
        }

        var perThread = args.Contains("--threads");
        var repeat = BenchmarkCli.Value(args, "--repeat") is { } times ? int.Parse(times, CultureInfo.InvariantCulture) : 1;
        int? responderCpu = pin ? 1 : null;
        var calls = quick ? 20_000 : 100_000;
        var seconds = quick ? 2 : 5;
        var bulkBytes = quick ? 256L << 20 : 1L << 30;
        var report = new StringBuilder();
        var command = "dotnet run -c Release --project tests/RpcGen.Benchmarks -- " + string.Join(' ', args);
        var clock = Stopwatch.StartNew();
        var loadBefore = LoadAverage();

        var socketBase = Path.Combine(Path.GetTempPath(), $"rpcgen-shm-bench-{Guid.NewGuid():N}");
        var shm = $"shm:{socketBase}-shm.sock";
        var unix = $"unix:{socketBase}-unix.sock";
        var shmInline = $"shm:{socketBase}-inline.sock";
        using var child = StartChild(args, shm, unix, shmInline, pin);
        try
        {
            if (await child.StandardOutput.ReadLineAsync().WaitAsync(TimeSpan.FromMinutes(1)).ConfigureAwait(false) != "listening")
            {
                Console.Error.WriteLine("The child server did not start: " + await child.StandardError.ReadToEndAsync().ConfigureAwait(false));
                return 1;
            }

            Console.WriteLine($"shared-memory benchmark: {calls:N0} calls per unary cell, {seconds} s per 64-caller cell, {bulkBytes >> 20} MiB streamed");
            await using var shmClient = await RpcClient.ConnectAsync(shm).ConfigureAwait(false);
            await using var unixClient = await RpcClient.ConnectAsync(unix).ConfigureAwait(false);
            await using var inlineClient = await RpcClient.ConnectAsync(shmInline).ConfigureAwait(false);
            if (only is not null)
            {
                await RunOnlyAsync(only, calls, seconds, bulkBytes, repeat, options, responderCpu, shmClient, unixClient, inlineClient, child.Id, perThread).ConfigureAwait(false);
                return 0;
            }

            var raw = Percentiles.Of(RawSpinPingPong.Run(calls, responderCpu));
            Print("raw spin ping-pong (2 threads)", raw);
            var endpoint = Percentiles.Of(EndpointPingPong.Run(calls, options, responderCpu));
            Print("endpoint SendRecv (2 threads)", endpoint);

            await WarmUpUnaryAsync(child.Id, shmClient, unixClient, inlineClient).ConfigureAwait(false);
            var (shmUnary, shmAllocated, shmSwitches) = await UnaryAsync(shmClient, calls, child.Id, perThread).ConfigureAwait(false);
            Print("RpcGen unary over shm (2 processes)", shmUnary);
            var (unixUnary, unixAllocated, unixSwitches) = await UnaryAsync(unixClient, calls, child.Id, perThread).ConfigureAwait(false);
            Print("RpcGen unary over UDS (2 processes)", unixUnary);
            var (inlineUnary, _, inlineSwitches) = await UnaryAsync(inlineClient, calls, child.Id, perThread).ConfigureAwait(false);
            Print("shm, server handlers inline (opt-in)", inlineUnary);
            Console.WriteLine($"context switches per call (client + server): shm {shmSwitches}, UDS {unixSwitches}, shm inline handlers {inlineSwitches}");
            var shmValueAllocated = await ValueTaskAllocationsAsync(shmClient, calls).ConfigureAwait(false);
            var unixValueAllocated = await ValueTaskAllocationsAsync(unixClient, calls).ConfigureAwait(false);
            Console.WriteLine($"client allocations per call: Task<int> shm {shmAllocated:F0} B, UDS {unixAllocated:F0} B; ValueTask<int> shm {shmValueAllocated:F0} B, UDS {unixValueAllocated:F0} B");
            await WarmUpConcurrentAsync(child.Id, shmClient, unixClient, inlineClient).ConfigureAwait(false);
            var shmConcurrent = await ConcurrentAsync(shmClient, 64, seconds, child.Id).ConfigureAwait(false);
            var unixConcurrent = await ConcurrentAsync(unixClient, 64, seconds, child.Id).ConfigureAwait(false);
            Console.WriteLine($"64 callers: shm {shmConcurrent}; UDS {unixConcurrent}");
            var floor = await ConcurrentEchoFloor.RunAsync(64, seconds, pin, options, perThread).ConfigureAwait(false);
            PrintFloor(floor, shmConcurrent);
            var (shmBulk, unixBulk, memcpy, memcpyWhole) = await BulkAsync(shmClient, unixClient, bulkBytes, child.Id).ConfigureAwait(false);

            report.AppendLine("# Shared-memory transport benchmark");
            report.AppendLine();
            report.AppendLine($"Command: `{command}`  ");
            report.AppendLine($"Run: {ResultsFile.RunStamp()}  ");
            report.AppendLine($"Machine: {Environment.ProcessorCount} CPUs for this process, {System.Runtime.InteropServices.RuntimeInformation.OSDescription}, .NET {Environment.Version}; load average before: {loadBefore}  ");
            var pinning = pin
                ? "pinned (this process under `taskset -c 0`, the child server under `taskset -c 1`, the floors' responder thread on CPU 1)"
                : "unpinned";
            report.AppendLine($"Spin budget: {options.SpinBudget.TotalMicroseconds:F0} µs (adaptive); {options.WindowsPerDirection} windows of {options.WindowBytes / 1024} KiB per direction; {pinning}; load average after: {LoadAverage()}; total {clock.Elapsed.TotalSeconds:F0} s.");
            report.AppendLine();
            report.AppendLine("| cell | p50 µs | p99 µs | mean µs |");
            report.AppendLine("|---|---:|---:|---:|");
            Row(report, "raw spin ping-pong, 2 threads, one shared word (floor)", raw);
            Row(report, "SharedMemoryEndpoint SendRecv, 2 threads", endpoint);
            Row(report, "RpcGen unary over shm:, 2 processes", shmUnary);
            Row(report, "RpcGen unary over unix: (UDS), 2 processes", unixUnary);
            Row(report, "RpcGen unary over shm:, server handlers inline (opt-in)", inlineUnary);
            report.AppendLine();
            report.AppendLine("Context switches per unary call (client process + server process, all threads): "
                + $"shm {shmSwitches}, UDS {unixSwitches}, shm with inline handlers {inlineSwitches}.");
            report.AppendLine();
            report.AppendLine("| ratio | value | issue target |");
            report.AppendLine("|---|---:|---:|");
            report.AppendLine(CultureInfo.InvariantCulture, $"| shm unary p50 / raw ping-pong p50 | {shmUnary.P50 / raw.P50:F1}x | ≤ 3x |");
            report.AppendLine(CultureInfo.InvariantCulture, $"| shm unary p50 / UDS unary p50 | {shmUnary.P50 / unixUnary.P50:F2}x | ≤ 0.05x |");
            report.AppendLine(CultureInfo.InvariantCulture, $"| 64 callers over shm, calls/s | {shmConcurrent.CallsPerSecond:N0} (UDS {unixConcurrent.CallsPerSecond:N0}; {shmConcurrent.CallsPerSecond / unixConcurrent.CallsPerSecond:F2}x) | ≥ 2,000,000 |");
            report.AppendLine(CultureInfo.InvariantCulture, $"| 64 callers, minimal async echo over shm (floor), calls/s | {floor.CallsPerSecond:N0} (RpcGen over shm {shmConcurrent.CallsPerSecond / floor.CallsPerSecond:F2}x) | – |");
            report.AppendLine(CultureInfo.InvariantCulture, $"| 64 callers, CPU µs per call, client + server: RpcGen over shm / floor | {shmConcurrent.ClientCpuMicrosPerCall:F2} + {shmConcurrent.ServerCpuMicrosPerCall:F2} / {floor.ClientCpuMicrosPerCall:F2} + {floor.ServerCpuMicrosPerCall:F2} ({shmConcurrent.CpuMicrosPerCall / floor.CpuMicrosPerCall:F1}x) | – |");
            report.AppendLine(CultureInfo.InvariantCulture, $"| client allocations per unary call, shm, `Task<int>` method | {shmAllocated:F0} B (UDS {unixAllocated:F0} B) | 0 B |");
            report.AppendLine(CultureInfo.InvariantCulture, $"| client allocations per unary call, shm, `ValueTask<int>` method | {shmValueAllocated:F0} B (UDS {unixValueAllocated:F0} B) | 0 B |");
            report.AppendLine(CultureInfo.InvariantCulture, $"| {bulkBytes >> 20} MiB streamed over shm / memcpy in 64 KiB copies (cache-resident) | {shmBulk / memcpy:F3}x ({shmBulk:F0} vs {memcpy:F0} MiB/s; UDS {unixBulk:F0} MiB/s, {unixBulk / memcpy:F3}x) | ≥ 0.5x |");
            report.AppendLine(CultureInfo.InvariantCulture, $"| {bulkBytes >> 20} MiB streamed over shm / memcpy of one {bulkBytes >> 20} MiB buffer into another (memory-bound) | {shmBulk / memcpyWhole:F3}x ({shmBulk:F0} vs {memcpyWhole:F0} MiB/s) | ≥ 0.5x |");
        }
        finally
        {
            child.StandardInput.Close();
            if (!child.WaitForExit(TimeSpan.FromSeconds(10)))
            {
                child.Kill();
            }
        }

        var path = Path.Combine(BenchmarkCli.Value(args, "--out") ?? Path.Combine(BenchmarkCli.FindProjectDirectory(), "results"), pin ? "shm-pinned.md" : "shm.md");
        await ResultsFile.WriteTopKeepingSectionsAsync(path, report.ToString()).ConfigureAwait(false);
        Console.WriteLine();
        Console.WriteLine(report);
        Console.WriteLine($"Wrote {path}.");
        return 0;
    }

    /// <summary>
    /// The 1 GiB cell: a download over shm and over UDS (each after an untimed warm-up), and the two
    /// memcpy bases. The shm warm-up goes on, 64 MiB at a time, until the JIT of both processes is
    /// quiet, as the unary warm-up does: after one 64 MiB download the timed one still ran beside
    /// the tiered compiler (3–10 µs of its CPU per 64 KiB chunk in each process, <c>--threads</c>).
    /// </summary>
    private static async Task<(double Shm, double Unix, double Memcpy, double MemcpyWhole)> BulkAsync(RpcClient shmClient, RpcClient unixClient, long bulkBytes, int serverProcessId, bool perThread = false)
    {
        await DownloadAsync(shmClient, BulkWarmUpBytes).ConfigureAwait(false);
        await DownloadAsync(unixClient, BulkWarmUpBytes).ConfigureAwait(false);
        await UntilJitQuietAsync(serverProcessId, () => DownloadAsync(shmClient, BulkWarmUpBytes)).ConfigureAwait(false);
        var shmBulk = await DownloadAsync(shmClient, bulkBytes, perThread ? serverProcessId : null).ConfigureAwait(false);
        var unixBulk = await DownloadAsync(unixClient, bulkBytes).ConfigureAwait(false);
        var memcpy = MemcpyBandwidth(bulkBytes);
        var memcpyWhole = WholeBufferMemcpyBandwidth(bulkBytes);
        Console.WriteLine($"bulk: shm {shmBulk:F0} MiB/s, UDS {unixBulk:F0} MiB/s, memcpy {memcpy:F0} MiB/s in 64 KiB copies, {memcpyWhole:F0} MiB/s buffer to buffer; shm / buffer-to-buffer memcpy {shmBulk / memcpyWhole:F2}x");
        return (shmBulk, unixBulk, memcpy, memcpyWhole);
    }

    /// <summary><c>--only</c>: the floors and unary cells, the 64-caller cells, or the bulk cell, printed and not written.</summary>
    private static async Task RunOnlyAsync(string only, int calls, int seconds, long bulkBytes, int repeat, SharedMemoryOptions options, int? responderCpu, RpcClient shmClient, RpcClient unixClient, RpcClient inlineClient, int serverProcessId, bool perThread)
    {
        Console.WriteLine($"load average: {LoadAverage()}");
        if (only == "bulk")
        {
            await BulkAsync(shmClient, unixClient, bulkBytes, serverProcessId, perThread).ConfigureAwait(false);

            // More shm downloads alone, so a profiler attached to the whole run sees mostly them.
            for (var i = 1; i < repeat; i++)
            {
                Console.WriteLine($"bulk: shm {await DownloadAsync(shmClient, bulkBytes, perThread ? serverProcessId : null).ConfigureAwait(false):F0} MiB/s");
            }
        }
        else if (only == "concurrent")
        {
            await WarmUpConcurrentAsync(serverProcessId, shmClient, unixClient, inlineClient).ConfigureAwait(false);
            var shmConcurrent = await ConcurrentAsync(shmClient, 64, seconds, serverProcessId, perThread).ConfigureAwait(false);
            var unixConcurrent = await ConcurrentAsync(unixClient, 64, seconds, serverProcessId, perThread).ConfigureAwait(false);
            var inlineConcurrent = await ConcurrentAsync(inlineClient, 64, seconds, serverProcessId, perThread).ConfigureAwait(false);
            Console.WriteLine($"64 callers: shm {shmConcurrent}; UDS {unixConcurrent}; shm inline handlers {inlineConcurrent}");
            var floor = await ConcurrentEchoFloor.RunAsync(64, seconds, pin: responderCpu is not null, options, perThread).ConfigureAwait(false);
            PrintFloor(floor, shmConcurrent);

            // More shm cells alone, so a profiler attached to both processes sees mostly them.
            for (var i = 1; i < repeat; i++)
            {
                Console.WriteLine($"64 callers: shm {await ConcurrentAsync(shmClient, 64, seconds, serverProcessId, perThread).ConfigureAwait(false)}");
            }
        }
        else
        {
            Print("raw spin ping-pong (2 threads)", Percentiles.Of(RawSpinPingPong.Run(calls, responderCpu)));
            Print("endpoint SendRecv (2 threads)", Percentiles.Of(EndpointPingPong.Run(calls, options, responderCpu)));
            await WarmUpUnaryAsync(serverProcessId, shmClient, unixClient, inlineClient).ConfigureAwait(false);
            foreach (var (name, client) in new[] { ("RpcGen unary over shm (2 processes)", shmClient), ("RpcGen unary over UDS (2 processes)", unixClient), ("shm, server handlers inline (opt-in)", inlineClient) })
            {
                var (latency, _, switches) = await UnaryAsync(client, calls, serverProcessId, perThread).ConfigureAwait(false);
                Print(name, latency);
                Console.WriteLine($"  context switches per call (client + server): {switches}");
            }

            // More default-handler shm cells alone, so a profiler attached to the whole run sees mostly them.
            for (var i = 1; i < repeat; i++)
            {
                Print("RpcGen unary over shm (2 processes)", (await UnaryAsync(shmClient, calls, serverProcessId, perThread).ConfigureAwait(false)).Latency);
            }
        }

        Console.WriteLine($"load average: {LoadAverage()}; --only writes no results file");
    }

    private static async Task<(Percentiles Latency, double AllocatedPerCall, SwitchesPerCall Switches)> UnaryAsync(RpcClient client, int calls, int serverProcessId, bool perThread)
    {
        var service = client.GetService<IShmBenchService>();
        for (var i = 0; i < Math.Min(calls, 5_000); i++)
        {
            await service.AddAsync(i, 1).ConfigureAwait(false);
        }

        var micros = new double[calls];
        var clientBefore = ContextSwitches.PerThread(Environment.ProcessId);
        var serverBefore = ContextSwitches.PerThread(serverProcessId);
        var allocatedBefore = GC.GetTotalAllocatedBytes(precise: true);
        for (var i = 0; i < calls; i++)
        {
            var started = Stopwatch.GetTimestamp();
            await service.AddAsync(i, 1).ConfigureAwait(false);
            micros[i] = Stopwatch.GetElapsedTime(started).TotalMicroseconds;
        }

        var allocated = (GC.GetTotalAllocatedBytes(precise: true) - allocatedBefore) / (double)calls;
        var clientAfter = ContextSwitches.PerThread(Environment.ProcessId);
        var serverAfter = ContextSwitches.PerThread(serverProcessId);
        var switches = new SwitchesPerCall(Sum(clientAfter, clientBefore) / (double)calls, Sum(serverAfter, serverBefore) / (double)calls);
        if (perThread)
        {
            Console.WriteLine($"  switches per call by thread, client: {ContextSwitches.Breakdown(clientBefore, clientAfter, calls)}");
            Console.WriteLine($"  switches per call by thread, server: {ContextSwitches.Breakdown(serverBefore, serverAfter, calls)}");
            Console.WriteLine($"  CPU µs per call by thread, client: {ContextSwitches.CpuBreakdown(clientBefore, clientAfter, calls)}");
            Console.WriteLine($"  CPU µs per call by thread, server: {ContextSwitches.CpuBreakdown(serverBefore, serverAfter, calls)}");
        }
        return (Percentiles.Of(micros), allocated, switches);
    }

    private static long Sum(Dictionary<int, (string Name, long Switches, long CpuTicks)> after, Dictionary<int, (string Name, long Switches, long CpuTicks)> before) =>
        after.Values.Sum(thread => thread.Switches) - before.Values.Sum(thread => thread.Switches);

    /// <summary>Client bytes allocated per call of the <see cref="ValueTask{TResult}"/> method, after a warm-up.</summary>
    private static async Task<double> ValueTaskAllocationsAsync(RpcClient client, int calls)
    {
        var service = client.GetService<IShmBenchService>();
        for (var i = 0; i < Math.Min(calls, 5_000); i++)
        {
            await service.AddValueAsync(i, 1).ConfigureAwait(false);
        }

        var allocatedBefore = GC.GetTotalAllocatedBytes(precise: true);
        for (var i = 0; i < calls; i++)
        {
            await service.AddValueAsync(i, 1).ConfigureAwait(false);
        }

        return (GC.GetTotalAllocatedBytes(precise: true) - allocatedBefore) / (double)calls;
    }

    // How long each client runs untimed, twice over, before the first timed cell of a kind.
    private static readonly TimeSpan WarmUpPerClient = TimeSpan.FromSeconds(1);

    // The JIT counts as quiet once neither process compiled anything for this long, and a unary
    // warm-up gives up waiting for that after JitQuietLimit per client (then says so).
    private static readonly TimeSpan JitQuietPeriod = TimeSpan.FromSeconds(1);
    private static readonly TimeSpan JitQuietLimit = TimeSpan.FromSeconds(20);

    /// <summary>
    /// Sequential calls on every client, untimed, for <see cref="WarmUpPerClient"/> each, twice
    /// round, then on each client again until the JIT of both processes has been quiet for
    /// <see cref="JitQuietPeriod"/> (at most <see cref="JitQuietLimit"/>), so no unary cell is timed
    /// while the paths of either process are still being compiled and tiered up. A fixed warm-up was
    /// not enough pinned: the server's tier-1 recompiles ran on its one core beside the handler worker
    /// for the first 100,000–200,000 timed calls (its JIT thread 3.4 µs of CPU per call), and those
    /// calls took 7–8 µs p50 against 3.0–3.2 µs once it was done (results/shm.md, 2026-12-06 18:50).
    /// </summary>
    private static async Task WarmUpUnaryAsync(int serverProcessId, params RpcClient[] clients)
    {
        for (var round = 0; round < 2; round++)
        {
            foreach (var client in clients)
            {
                await CallForAsync(client, WarmUpPerClient).ConfigureAwait(false);
            }
        }

        foreach (var client in clients)
        {
            await UntilJitQuietAsync(serverProcessId, () => CallForAsync(client, TimeSpan.FromMilliseconds(250))).ConfigureAwait(false);
        }
    }

    /// <summary>
    /// Runs <paramref name="slice"/> again and again until neither process's JIT did anything for
    /// <see cref="JitQuietPeriod"/>, or for at most <see cref="JitQuietLimit"/> (then says so).
    /// </summary>
    private static async Task UntilJitQuietAsync(int serverProcessId, Func<Task> slice)
    {
        var clock = Stopwatch.StartNew();
        var quietSince = clock.Elapsed;
        var compiled = JitWork(serverProcessId);
        while (clock.Elapsed - quietSince < JitQuietPeriod)
        {
            if (clock.Elapsed >= JitQuietLimit)
            {
                Console.WriteLine($"warm-up: the JIT was still compiling after {JitQuietLimit.TotalSeconds:F0} s on one client; timing anyway");
                return;
            }

            await slice().ConfigureAwait(false);
            var now = JitWork(serverProcessId);
            if (now != compiled)
            {
                (compiled, quietSince) = (now, clock.Elapsed);
            }
        }
    }

    private static async Task CallForAsync(RpcClient client, TimeSpan duration)
    {
        var service = client.GetService<IShmBenchService>();
        var clock = Stopwatch.StartNew();
        for (var i = 0; clock.Elapsed < duration; i++)
        {
            await service.AddAsync(i, 1).ConfigureAwait(false);
            await service.AddValueAsync(i, 1).ConfigureAwait(false);
        }
    }

    // What the two JITs have done so far: methods compiled here, and the CPU ticks (10 ms each) of the
    // server's tiered-compilation thread, where its tier-1 recompiles run (its own count is not
    // visible from here).
    private static (long ClientMethods, long ServerJitTicks) JitWork(int serverProcessId) =>
        (System.Runtime.JitInfo.GetCompiledMethodCount(), ContextSwitches.PerThread(serverProcessId).Values.Where(thread => thread.Name.StartsWith(".NET Tiered", StringComparison.Ordinal)).Sum(thread => thread.CpuTicks));

    /// <summary>
    /// 64 callers on each client, untimed, for <see cref="WarmUpPerClient"/> each, twice round, so
    /// the concurrent paths are compiled and tiered up before the timed cells: with one second
    /// each, once, the first timed cell (shm) still ran with the JIT compiling beside it (0.4–0.6
    /// µs of the compiler's CPU per call, pinned) and every cell measured well below a second
    /// round of the same cells in the same processes (pinned: shm 123–167 k against 287–339 k calls/s).
    /// Then, as for unary cells, each client again until the JIT of both processes is quiet.
    /// </summary>
    private static async Task WarmUpConcurrentAsync(int serverProcessId, params RpcClient[] clients)
    {
        for (var round = 0; round < 2; round++)
        {
            foreach (var client in clients)
            {
                await ConcurrentAsync(client, 64, (int)WarmUpPerClient.TotalSeconds, serverProcessId).ConfigureAwait(false);
            }
        }

        foreach (var client in clients)
        {
            await UntilJitQuietAsync(serverProcessId, () => ConcurrentAsync(client, 64, 1, serverProcessId)).ConfigureAwait(false);
        }
    }

    /// <summary>Calls/s of <paramref name="callers"/> concurrent callers and both processes' CPU per call; with <paramref name="perThread"/>, prints the context switches and CPU per call by thread.</summary>
    private static async Task<ConcurrentCell> ConcurrentAsync(RpcClient client, int callers, int seconds, int serverProcessId, bool perThread = false)
    {
        var clientBefore = ContextSwitches.PerThread(Environment.ProcessId);
        var serverBefore = ContextSwitches.PerThread(serverProcessId);
        var service = client.GetService<IShmBenchService>();
        using var stop = new CancellationTokenSource(TimeSpan.FromSeconds(seconds));
        long total = 0;
        var clock = Stopwatch.StartNew();
        await Task.WhenAll(Enumerable.Range(0, callers).Select(_ => Task.Run(async () =>
        {
            long made = 0;
            while (!stop.IsCancellationRequested)
            {
                await service.AddAsync(1, 2).ConfigureAwait(false);
                made++;
            }

            Interlocked.Add(ref total, made);
        }))).ConfigureAwait(false);
        var rate = total / clock.Elapsed.TotalSeconds;
        var calls = (int)Math.Max(1, total);
        var clientAfter = ContextSwitches.PerThread(Environment.ProcessId);
        var serverAfter = ContextSwitches.PerThread(serverProcessId);
        if (perThread)
        {
            Console.WriteLine($"  switches per call by thread, client: {ContextSwitches.Breakdown(clientBefore, clientAfter, calls)}");
            Console.WriteLine($"  switches per call by thread, server: {ContextSwitches.Breakdown(serverBefore, serverAfter, calls)}");
            Console.WriteLine($"  CPU µs per call by thread, client: {ContextSwitches.CpuBreakdown(clientBefore, clientAfter, calls)}");
            Console.WriteLine($"  CPU µs per call by thread, server: {ContextSwitches.CpuBreakdown(serverBefore, serverAfter, calls)}");
        }

        return new ConcurrentCell(rate, ContextSwitches.CpuMicros(clientBefore, clientAfter) / calls, ContextSwitches.CpuMicros(serverBefore, serverAfter) / calls);
    }

    /// <summary>Downloads <paramref name="bytes"/> and returns MiB/s; with <paramref name="perThreadServer"/>, prints switches and CPU µs per 64 KiB chunk by thread (<c>--threads</c>).</summary>
    private static async Task<double> DownloadAsync(RpcClient client, long bytes, int? perThreadServer = null)
    {
        var buffer = new byte[256 * 1024];
        var clientBefore = perThreadServer is null ? null : ContextSwitches.PerThread(Environment.ProcessId);
        var serverBefore = perThreadServer is { } server ? ContextSwitches.PerThread(server) : null;
        var clock = Stopwatch.StartNew();
        await using var stream = await client.GetService<IShmBenchService>().DownloadAsync(bytes).ConfigureAwait(false);
        long received = 0;
        int read;
        while ((read = await stream.ReadAsync(buffer).ConfigureAwait(false)) > 0)
        {
            received += read;
        }

        if (received != bytes)
        {
            throw new InvalidOperationException($"Downloaded {received} of {bytes} bytes.");
        }

        var rate = bytes / (1024.0 * 1024.0) / clock.Elapsed.TotalSeconds;
        if (perThreadServer is { } serverId)
        {
            var chunks = (int)(bytes / BulkOptions.ChunkBytes);
            var clientAfter = ContextSwitches.PerThread(Environment.ProcessId);
            var serverAfter = ContextSwitches.PerThread(serverId);
            Console.WriteLine($"  download {rate:F0} MiB/s; switches per chunk by thread, client: {ContextSwitches.Breakdown(clientBefore!, clientAfter, chunks)}");
            Console.WriteLine($"  switches per chunk by thread, server: {ContextSwitches.Breakdown(serverBefore!, serverAfter, chunks)}");
            Console.WriteLine($"  CPU µs per chunk by thread, client: {ContextSwitches.CpuBreakdown(clientBefore!, clientAfter, chunks)}");
            Console.WriteLine($"  CPU µs per chunk by thread, server: {ContextSwitches.CpuBreakdown(serverBefore!, serverAfter, chunks)}");
        }

        return rate;
    }

    /// <summary>memcpy bandwidth for the same total in 64 KiB copies (a stream chunk's size), one thread, after an untimed pass; both buffers stay in the cache.</summary>
    private static double MemcpyBandwidth(long bytes)
    {
        var source = new byte[64 * 1024];
        var target = new byte[64 * 1024];
        for (long copied = 0; copied < BulkWarmUpBytes; copied += source.Length)
        {
            source.AsSpan().CopyTo(target);
        }

        var clock = Stopwatch.StartNew();
        for (long copied = 0; copied < bytes; copied += source.Length)
        {
            source.AsSpan().CopyTo(target);
        }

        return bytes / (1024.0 * 1024.0) / clock.Elapsed.TotalSeconds;
    }

    /// <summary>
    /// memcpy bandwidth of one copy of a <paramref name="bytes"/> buffer into another (both touched
    /// first, so page faults are not timed), one thread: what moving that much memory costs when it
    /// does not fit in the cache.
    /// </summary>
    private static double WholeBufferMemcpyBandwidth(long bytes)
    {
        var source = new byte[checked((int)bytes)];
        var target = new byte[source.Length];
        source.AsSpan().Fill(1);
        source.AsSpan().CopyTo(target);
        var clock = Stopwatch.StartNew();
        source.AsSpan().CopyTo(target);
        return bytes / (1024.0 * 1024.0) / clock.Elapsed.TotalSeconds;
    }

    private static Process StartChild(string[] args, string shm, string unix, string shmInline, bool pin)
    {
        List<string> arguments = [ServeOption, shm, "--unix", unix, InlineOption, shmInline];
        foreach (var option in new[] { "--spin-us", "--windows", "--window-kib" })
        {
            if (BenchmarkCli.Value(args, option) is { } value)
            {
                arguments.Add(option);
                arguments.Add(value);
            }
        }

        return StartSelf(pin, arguments);
    }

    /// <summary>Starts this program again with <c>--shm</c> and <paramref name="arguments"/>, under <c>taskset -c 1</c> when <paramref name="pin"/>; its standard streams are redirected.</summary>
    internal static Process StartSelf(bool pin, IEnumerable<string> arguments)
    {
        var self = Environment.ProcessPath!;
        var info = new ProcessStartInfo(pin ? "taskset" : self) { RedirectStandardInput = true, RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        if (pin)
        {
            info.ArgumentList.Add("-c");
            info.ArgumentList.Add("1");
            info.ArgumentList.Add(self);
        }

        if (Path.GetFileNameWithoutExtension(self) == "dotnet")
        {
            info.ArgumentList.Add(typeof(ShmCommand).Assembly.Location);
        }

        info.ArgumentList.Add("--shm");
        foreach (var argument in arguments)
        {
            info.ArgumentList.Add(argument);
        }

        return Process.Start(info)!;
    }

    private static string LoadAverage()
    {
        try
        {
            return File.ReadAllText("/proc/loadavg").Split(' ')[0];
        }
        catch (IOException)
        {
            return "?";
        }
    }

    private static void PrintFloor(ConcurrentCell floor, ConcurrentCell shm) =>
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"64 callers, minimal async echo over shm (floor): {floor}; RpcGen over shm ÷ floor: calls/s {shm.CallsPerSecond / floor.CallsPerSecond:F2}x, CPU per call {shm.CpuMicrosPerCall / floor.CpuMicrosPerCall:F1}x"));

    private static void Print(string name, Percentiles latency) =>
        Console.WriteLine($"{name,-40} p50 {latency.P50,9:F2} µs  p99 {latency.P99,9:F2} µs  mean {latency.Mean,9:F2} µs");

    private static void Row(StringBuilder report, string name, Percentiles latency) =>
        report.AppendLine(CultureInfo.InvariantCulture, $"| {name} | {latency.P50:F2} | {latency.P99:F2} | {latency.Mean:F2} |");

    private readonly record struct SwitchesPerCall(double Client, double Server)
    {
        public override string ToString() => string.Create(CultureInfo.InvariantCulture, $"{Client:F2} + {Server:F2}");
    }

    private readonly record struct Percentiles(double P50, double P99, double Mean)
    {
        public static Percentiles Of(double[] micros)
        {
            Array.Sort(micros);
            return new Percentiles(micros[micros.Length / 2], micros[Math.Min(micros.Length - 1, micros.Length * 99 / 100)], micros.Average());
        }
    }
}
