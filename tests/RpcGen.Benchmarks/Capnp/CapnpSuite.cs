using System.Diagnostics;
using System.Globalization;
using RpcGen.Benchmarks.Contracts;
using RpcGen.Benchmarks.Harness;
using RpcGen.Benchmarks.Peers.RpcGen;
using RpcGen.Capnp;

namespace RpcGen.Benchmarks.Capnp;

/// <summary>
/// Runs the <c>--capnp</c> matrix in this process, link by link: Cap'n Proto C# → C# and the message
/// transport on the same link (echo), the three-call chain pipelined and awaited, and the same calls
/// from the C# client and from the C++ client against the C++ server, and the release latency of a
/// dropped capability (generated proxy, C++ client). Every cell of a link is measured
/// once per round (see <see cref="CapnpOptions.Rounds"/>).
/// </summary>
public static class CapnpSuite
{
    /// <summary>Every cell of one link, in the order a round measures them.</summary>
    public static readonly (CapnpPair Pair, CapnpWorkload Workload)[] Cells =
    [
        (CapnpPair.Message, CapnpWorkload.Echo),
        (CapnpPair.CSharpGenerated, CapnpWorkload.Echo),
        (CapnpPair.CSharp, CapnpWorkload.Echo),
        (CapnpPair.CSharpGenerated, CapnpWorkload.ChainPipelined),
        (CapnpPair.CSharpGenerated, CapnpWorkload.ChainAwaited),
        (CapnpPair.CSharp, CapnpWorkload.ChainPipelined),
        (CapnpPair.CSharp, CapnpWorkload.ChainAwaited),
        (CapnpPair.CSharpGeneratedToCpp, CapnpWorkload.Echo),
        (CapnpPair.CSharpToCpp, CapnpWorkload.Echo),
        (CapnpPair.Cpp, CapnpWorkload.Echo),
        (CapnpPair.CSharpGeneratedToCpp, CapnpWorkload.ChainPipelined),
        (CapnpPair.CSharpGeneratedToCpp, CapnpWorkload.ChainAwaited),
        (CapnpPair.CSharpToCpp, CapnpWorkload.ChainPipelined),
        (CapnpPair.CSharpToCpp, CapnpWorkload.ChainAwaited),
        (CapnpPair.Cpp, CapnpWorkload.ChainPipelined),
        (CapnpPair.Cpp, CapnpWorkload.ChainAwaited),
        (CapnpPair.CSharpGenerated, CapnpWorkload.Release),
        (CapnpPair.CSharpGeneratedToCpp, CapnpWorkload.Release),
        (CapnpPair.Cpp, CapnpWorkload.Release),
    ];

    private static readonly TimeSpan BuildTimeout = TimeSpan.FromMinutes(5);

    /// <summary>Builds the C++ programs (or reuses a build), then measures every link of <paramref name="options"/>.</summary>
    public static async Task<CapnpPass> RunPassAsync(string label, string affinity, CapnpOptions options, TextWriter log)
    {
        log.WriteLine($"== {label} pass ({affinity}), {options.Mode} mode");
        var clock = Stopwatch.StartNew();
        var loadBefore = BenchmarkCli.LoadAverage();
        string? programs = null;
        string? nativeUnavailable = null;
        var toolsMissing = false;
        try
        {
            programs = await CppBenchPrograms.BuildAsync().WaitAsync(BuildTimeout).ConfigureAwait(false);
        }
        catch (CppToolsMissingException ex)
        {
            (nativeUnavailable, toolsMissing) = ($"n/a — C++ tools missing: {ex.Message} (install: `{CppBenchPrograms.InstallHint}`)", true);
        }
        catch (Exception ex) when (ex is not OutOfMemoryException)
        {
            nativeUnavailable = "error: building the C++ programs failed: " + Describe(ex);
        }

        if (nativeUnavailable is not null)
        {
            log.WriteLine("  " + nativeUnavailable);
        }

        var cells = new List<CapnpCell>();
        foreach (var link in options.Links)
        {
            cells.AddRange(await RunLinkAsync(link, programs, nativeUnavailable, options, log).ConfigureAwait(false));
        }

        return new CapnpPass
        {
            Label = label,
            Affinity = affinity,
            Cpus = Environment.ProcessorCount,
            Seconds = clock.Elapsed.TotalSeconds,
            Cells = cells,
            LoadBefore = loadBefore,
            LoadAfter = BenchmarkCli.LoadAverage(),
            NativeUnavailable = nativeUnavailable,
            NativeToolsMissing = toolsMissing,
            CallCountingDelayMs = TieredJit.CallCountingDelayMs,
        };
    }

    private static async Task<List<CapnpCell>> RunLinkAsync(LinkKind link, string? programs, string? nativeUnavailable, CapnpOptions options, TextWriter log)
    {
        var sessions = new LinkSessions();
        List<CellRun> runs;
        try
        {
            runs = await MeasureLinkAsync(sessions, link, programs, nativeUnavailable, options, log).ConfigureAwait(false);
        }
        finally
        {
            try
            {
                await sessions.DisposeAsync().AsTask().WaitAsync(options.Timeout).ConfigureAwait(false);
            }
            catch (TimeoutException)
            {
                log.WriteLine($"  {link}: the sessions did not close within {options.Timeout.TotalSeconds:0} s; going on.");
            }
        }

        var cells = runs.Select(r => r.ToCell()).ToList();
        foreach (var cell in cells)
        {
            log.WriteLine("  " + FormatProgress(cell));
        }

        return cells;
    }

    private static async Task<List<CellRun>> MeasureLinkAsync(LinkSessions sessions, LinkKind link, string? programs, string? nativeUnavailable, CapnpOptions options, TextWriter log)
    {
        var small = BenchData.CreateSmall();
        var runs = Cells.Select(c => new CellRun(c.Pair, c.Workload, link)).ToList();
        CellRun Run(CapnpPair pair, CapnpWorkload workload) => runs.First(r => r.Pair == pair && r.Workload == workload);
        var csharp = await StartAsync(() => sessions.StartCSharpAsync(link, small, options.Timeout), options.Timeout).ConfigureAwait(false);
        var generated = await StartAsync(() => sessions.StartGeneratedAsync(link, small, options.Timeout), options.Timeout).ConfigureAwait(false);
        var message = await StartAsync(() => sessions.StartMessageAsync(link, small), options.Timeout).ConfigureAwait(false);
        var cppServer = nativeUnavailable is null
            ? await StartAsync(() => sessions.StartCppAsync(Path.Combine(programs!, CppBenchPrograms.Server), link, small, options.Timeout), options.Timeout).ConfigureAwait(false)
            : nativeUnavailable;

        foreach (var run in runs)
        {
            run.Unavailable = run.Pair switch
            {
                CapnpPair.CSharp => csharp,
                CapnpPair.CSharpGenerated => generated,
                CapnpPair.Message => message,
                _ => cppServer,
            };
        }

        Run(CapnpPair.Message, CapnpWorkload.Echo).Driver = recorder => CallLoop.RunAsync(() => sessions.Message!.Service.EchoSmallAsync(small), recorder);
        void Drive(CapnpPair pair, Func<ValueTask<SmallMessage>> echo, Func<ValueTask<long>> pipelined, Func<ValueTask<long>> awaited)
        {
            Run(pair, CapnpWorkload.Echo).Driver = recorder => CallLoop.RunAsync(echo, recorder);
            Run(pair, CapnpWorkload.ChainPipelined).Driver = recorder => CallLoop.RunAsync(pipelined, recorder);
            Run(pair, CapnpWorkload.ChainAwaited).Driver = recorder => CallLoop.RunAsync(awaited, recorder);
        }

        foreach (var (pair, root) in new[] { (CapnpPair.CSharp, sessions.CSharpRoot), (CapnpPair.CSharpToCpp, sessions.CppRoot) })
        {
            if (root is not null)
            {
                Drive(pair, () => BenchProtocol.EchoAsync(root, small), () => BenchProtocol.ChainPipelinedAsync(root), () => BenchProtocol.ChainAwaitedAsync(root));
            }
        }

        foreach (var (pair, node) in new[] { (CapnpPair.CSharpGenerated, sessions.GeneratedRoot), (CapnpPair.CSharpGeneratedToCpp, sessions.CppGeneratedRoot) })
        {
            if (node is not null)
            {
                Drive(pair, () => GeneratedProtocol.EchoAsync(node, small), () => GeneratedProtocol.ChainPipelinedAsync(node), () => GeneratedProtocol.ChainAwaitedAsync(node));
                Run(pair, CapnpWorkload.Release).Driver = recorder => GeneratedProtocol.DropLoopAsync(node, recorder);
            }
        }

        for (var round = 0; round < options.Rounds; round++)
        {
            foreach (var run in runs.Where(r => r.Unavailable is null))
            {
                try
                {
                    if (run.Pair == CapnpPair.Cpp)
                    {
                        await MeasureCppRoundAsync(run, Path.Combine(programs!, CppBenchPrograms.Client), sessions.CppServer!.CppAddress, options).ConfigureAwait(false);
                    }
                    else
                    {
                        await MeasureCSharpRoundAsync(run, options).ConfigureAwait(false);
                    }
                }
                catch (Exception ex) when (ex is not OutOfMemoryException)
                {
                    run.Unavailable = "error: " + Describe(ex);
                }
            }

            log.WriteLine($"  {link}: round {round + 1} of {options.Rounds} measured");
        }

        return runs;
    }

    /// <summary>Runs <paramref name="start"/> with a time limit; null when it worked, else why the cells it serves cannot run.</summary>
    private static async Task<string?> StartAsync(Func<Task> start, TimeSpan timeout)
    {
        try
        {
            await start().WaitAsync(timeout).ConfigureAwait(false);
            return null;
        }
        catch (Exception ex) when (ex is not OutOfMemoryException)
        {
            return "error: " + Describe(ex);
        }
    }

    private static async Task MeasureCSharpRoundAsync(CellRun run, CapnpOptions options)
    {
        var recorders = new[] { run.Recorder ??= new CallerRecorder(options.MaxCallsPerRound) };
        var tasks = new Task[1];
        if (run.WarmupSeconds is null)
        {
            await WarmUpAsync(run, recorders, tasks, options).ConfigureAwait(false);
        }

        // Garbage from the previous cell is not charged to this one.
        GC.Collect();
        GC.WaitForPendingFinalizers();
        GC.Collect();
        var allocatedBefore = GC.GetTotalAllocatedBytes(precise: true);
        var started = Stopwatch.GetTimestamp();
        await CompareSuite.RunPhaseAsync(run.Driver!, recorders, tasks, options.Measure, options.Timeout).ConfigureAwait(false);
        run.Seconds += Stopwatch.GetElapsedTime(started).TotalSeconds;
        run.Allocated = (run.Allocated ?? 0) + (GC.GetTotalAllocatedBytes(precise: true) - allocatedBefore);
        foreach (var latency in recorders[0].Latencies)
        {
            run.Latencies.Add(latency);
        }
    }

    /// <summary>
    /// Runs the cell for at least <see cref="CapnpOptions.Warmup"/>, then until no method has been
    /// compiled for <see cref="CapnpOptions.JitQuietPeriod"/>, at most <see cref="CapnpOptions.MaxWarmup"/>:
    /// a fixed warmup of a fraction of a second measures tier-0 code on this machine, where tier-1 code
    /// for a call path can take seconds to arrive.
    /// </summary>
    private static async Task WarmUpAsync(CellRun run, CallerRecorder[] recorders, Task[] tasks, CapnpOptions options)
    {
        var (elapsed, settled) = await TieredJit.WarmUpAsync(run.Driver!, recorders, tasks, options.Warmup, options.JitQuietPeriod, options.MaxWarmup, options.Timeout).ConfigureAwait(false);
        run.WarmupSeconds = elapsed.TotalSeconds;
        run.JitSettled = settled;
    }

    private static async Task MeasureCppRoundAsync(CellRun run, string client, string address, CapnpOptions options)
    {
        string[] arguments =
        [
            address,
            run.Workload.CppMode(),
            ((long)options.Warmup.TotalMilliseconds).ToString(CultureInfo.InvariantCulture),
            ((long)options.Measure.TotalMilliseconds).ToString(CultureInfo.InvariantCulture),
            options.MaxCallsPerRound.ToString(CultureInfo.InvariantCulture),
        ];
        var result = await NativeProcess.RunCheckedAsync(client, arguments, options.Warmup + options.Measure + options.Timeout).ConfigureAwait(false);
        run.WarmupSeconds = options.Warmup.TotalSeconds;
        var (elapsedNanoseconds, latencies) = ParseClientOutput(result.Stdout);
        run.Seconds += elapsedNanoseconds / 1e9;
        foreach (var nanoseconds in latencies)
        {
            run.Latencies.Add((int)Math.Min(nanoseconds * Stopwatch.Frequency / 1_000_000_000, int.MaxValue));
        }
    }

    /// <summary>Reads what <c>bench-client</c> prints: <c>CALLS n ELAPSED_NS t</c>, then <c>LATENCIES_NS</c> and n durations.</summary>
    public static (long ElapsedNanoseconds, long[] Latencies) ParseClientOutput(string stdout)
    {
        var lines = stdout.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
        var header = lines.FirstOrDefault(l => l.StartsWith("CALLS ", StringComparison.Ordinal))?.Split(' ');
        var values = lines.FirstOrDefault(l => l.StartsWith("LATENCIES_NS", StringComparison.Ordinal))?.Split(' ', StringSplitOptions.RemoveEmptyEntries);
        if (header is not ["CALLS", var calls, "ELAPSED_NS", var elapsed] || values is null)
        {
            throw new InvalidDataException($"bench-client printed no results: {(stdout.Length > 200 ? stdout[..200] + "…" : stdout)}");
        }

        var latencies = values.Skip(1).Select(v => long.Parse(v, NumberStyles.None, CultureInfo.InvariantCulture)).ToArray();
        if (latencies.Length != long.Parse(calls, NumberStyles.None, CultureInfo.InvariantCulture))
        {
            throw new InvalidDataException($"bench-client announced {calls} calls but printed {latencies.Length} latencies.");
        }

        return (long.Parse(elapsed, NumberStyles.None, CultureInfo.InvariantCulture), latencies);
    }

    /// <summary>One line of console progress for <paramref name="cell"/>.</summary>
    public static string FormatProgress(CapnpCell cell)
    {
        var head = $"{cell.Link,-4} {cell.Pair.Display(),-44} {cell.Workload.Display(),-24}";
        return cell.IsMeasured
            ? head + $" p50 {ReportWriter.Us(cell.P50Microseconds),8} µs  p99 {ReportWriter.Us(cell.P99Microseconds),8} µs  {ReportWriter.Count(cell.Operations),9} ops"
            : head + " " + (cell.Unavailable ?? "no operations measured");
    }

    private static string Describe(Exception ex)
    {
        var inner = ex is AggregateException { InnerException: { } first } ? first : ex;
        var text = inner.Message.ReplaceLineEndings(" ");
        return inner.GetType().Name + ": " + (text.Length > 200 ? text[..200] + "…" : text);
    }

    /// <summary>One cell being measured over the rounds.</summary>
    private sealed class CellRun(CapnpPair pair, CapnpWorkload workload, LinkKind link)
    {
        public CapnpPair Pair { get; } = pair;

        public CapnpWorkload Workload { get; } = workload;

        public CallerDriver? Driver { get; set; }

        // Reused by every round of a C# cell; the C++ client keeps its own.
        public CallerRecorder? Recorder { get; set; }

        // Set by the warmup (for a C# cell, the first round's).
        public double? WarmupSeconds { get; set; }

        public bool JitSettled { get; set; } = true;

        public string? Unavailable { get; set; }

        public List<int> Latencies { get; } = [];

        public double Seconds { get; set; }

        public long? Allocated { get; set; }

        public CapnpCell ToCell()
        {
            if (Unavailable is not null)
            {
                return new CapnpCell { Pair = Pair, Workload = Workload, Link = link, Unavailable = Unavailable };
            }

            var sorted = Latencies.ToArray();
            Array.Sort(sorted);
            return new CapnpCell
            {
                Pair = Pair,
                Workload = Workload,
                Link = link,
                Operations = sorted.Length,
                WarmupSeconds = WarmupSeconds ?? 0,
                JitSettled = JitSettled,
                Seconds = Seconds,
                P50Microseconds = Microseconds(CompareSuite.Percentile(sorted, 0.50)),
                P99Microseconds = Microseconds(CompareSuite.Percentile(sorted, 0.99)),
                AllocatedBytesPerOperation = Allocated is { } bytes && sorted.Length > 0 ? (double)bytes / sorted.Length : null,
            };
        }

        private static double Microseconds(int ticks) => ticks * 1_000_000.0 / Stopwatch.Frequency;
    }

    /// <summary>The servers and clients of one link, disposed together.</summary>
    private sealed class LinkSessions : IAsyncDisposable
    {
        private CapnpServer? _server;
        private CapnpConnection? _connection;
        private string? _socketPath;
        private CapnpServer? _generatedServer;
        private CapnpConnection? _generatedConnection;
        private string? _generatedSocketPath;
        private CapnpConnection? _cppConnection;
        private CapnpConnection? _cppGeneratedConnection;

        public Capability? CSharpRoot { get; private set; }

        public IBenchNode? GeneratedRoot { get; private set; }

        public IBenchNode? CppGeneratedRoot { get; private set; }

        public RpcGenSession? Message { get; private set; }

        public CppBenchServer? CppServer { get; private set; }

        public Capability? CppRoot { get; private set; }

        public async Task StartCSharpAsync(LinkKind link, SmallMessage small, TimeSpan timeout)
        {
            _socketPath = link == LinkKind.Uds ? Loopback.NewUnixSocketPath("capnp") : null;
            using (var bootstrap = Capability.FromServer(new BenchNodeServer(0)))
            {
                _server = CapnpServer.Listen(_socketPath is null ? "tcp://127.0.0.1:0" : "unix:" + _socketPath, bootstrap);
            }

            _connection = await CapnpConnection.ConnectAsync(_server.Address).ConfigureAwait(false);
            CSharpRoot = _connection.Bootstrap();
            await VerifyAsync(CSharpRoot, small, CapnpPair.CSharp.Display(), timeout).ConfigureAwait(false);
        }

        public async Task StartGeneratedAsync(LinkKind link, SmallMessage small, TimeSpan timeout)
        {
            _generatedSocketPath = link == LinkKind.Uds ? Loopback.NewUnixSocketPath("capnp-gen") : null;
            _generatedServer = CapnpServer.Listen<IBenchNode>(_generatedSocketPath is null ? "tcp://127.0.0.1:0" : "unix:" + _generatedSocketPath, new BenchNodeService(0));
            _generatedConnection = await CapnpConnection.ConnectAsync(_generatedServer.Address).ConfigureAwait(false);
            GeneratedRoot = _generatedConnection.Bootstrap<IBenchNode>();
            await VerifyAsync(GeneratedRoot, small, CapnpPair.CSharpGenerated.Display(), timeout).ConfigureAwait(false);
        }

        public async Task StartMessageAsync(LinkKind link, SmallMessage small)
        {
            Message = await RpcGenSession.StartAsync(link).ConfigureAwait(false);
            EchoCheck.Small(small, await Message.Service.EchoSmallAsync(small).ConfigureAwait(false), CapnpPair.Message.Display());
        }

        public async Task StartCppAsync(string server, LinkKind link, SmallMessage small, TimeSpan timeout)
        {
            CppServer = await CppBenchServer.StartAsync(server, link, timeout).ConfigureAwait(false);
            _cppConnection = await CapnpConnection.ConnectAsync(CppServer.CSharpAddress).ConfigureAwait(false);
            CppRoot = _cppConnection.Bootstrap();
            await VerifyAsync(CppRoot, small, CapnpPair.CSharpToCpp.Display(), timeout).ConfigureAwait(false);
            _cppGeneratedConnection = await CapnpConnection.ConnectAsync(CppServer.CSharpAddress).ConfigureAwait(false);
            CppGeneratedRoot = _cppGeneratedConnection.Bootstrap<IBenchNode>();
            await VerifyAsync(CppGeneratedRoot, small, CapnpPair.CSharpGeneratedToCpp.Display(), timeout).ConfigureAwait(false);
        }

        public async ValueTask DisposeAsync()
        {
            CSharpRoot?.Dispose();
            CppRoot?.Dispose();
            (GeneratedRoot as IDisposable)?.Dispose();
            (CppGeneratedRoot as IDisposable)?.Dispose();

            // Clients before their servers, the C++ server after both of its clients.
            IAsyncDisposable?[] owned = [_generatedConnection, _generatedServer, _connection, _server, _cppConnection, _cppGeneratedConnection, CppServer, Message];
            foreach (var item in owned)
            {
                if (item is not null)
                {
                    await item.DisposeAsync().ConfigureAwait(false);
                }
            }

            foreach (var path in new[] { _generatedSocketPath, _socketPath })
            {
                if (path is not null && File.Exists(path))
                {
                    File.Delete(path);
                }
            }
        }

        private static Task VerifyAsync(Capability root, SmallMessage small, string who, TimeSpan timeout) =>
            VerifyAsync(who, small, timeout, () => BenchProtocol.EchoAsync(root, small), () => BenchProtocol.ChainPipelinedAsync(root), () => BenchProtocol.ChainAwaitedAsync(root));

        private static Task VerifyAsync(IBenchNode root, SmallMessage small, string who, TimeSpan timeout) =>
            VerifyAsync(who, small, timeout, () => GeneratedProtocol.EchoAsync(root, small), () => GeneratedProtocol.ChainPipelinedAsync(root), () => GeneratedProtocol.ChainAwaitedAsync(root));

        /// <summary>The echo answers the same fields and both chains reach depth 2, before anything is timed.</summary>
        private static async Task VerifyAsync(string who, SmallMessage small, TimeSpan timeout, Func<ValueTask<SmallMessage>> echo, Func<ValueTask<long>> pipelined, Func<ValueTask<long>> awaited)
        {
            EchoCheck.Small(small, await echo().AsTask().WaitAsync(timeout).ConfigureAwait(false), who);
            EchoCheck.Count(BenchProtocol.ChainDepth, await pipelined().AsTask().WaitAsync(timeout).ConfigureAwait(false), who, "pipelined chain depth");
            EchoCheck.Count(BenchProtocol.ChainDepth, await awaited().AsTask().WaitAsync(timeout).ConfigureAwait(false), who, "awaited chain depth");
        }
    }
}
