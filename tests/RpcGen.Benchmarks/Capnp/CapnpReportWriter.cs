using System.Globalization;
using System.Text;
using RpcGen.Benchmarks.Harness;

namespace RpcGen.Benchmarks.Capnp;

/// <summary>Renders a <see cref="CapnpReport"/> as Markdown: per pass the three ratios against their targets, then every cell.</summary>
public static class CapnpReportWriter
{
    /// <summary>Cap'n Proto C# → C# echo (generated proxy) over the message transport's, p50.</summary>
    public const double TransportRatioTarget = 1.3;

    /// <summary>The pipelined chain over the awaited one, C# → C# through the generated proxy, p50.</summary>
    public const double PipeliningRatioTarget = 0.6;

    /// <summary>The generated C# proxy over the C++ client against the C++ server over a Unix socket, p50.</summary>
    public const double ClientRatioTarget = 1.3;

    // As in the comparison report: more runnable threads than CPUs + 1 means other work shared the machine.
    private static readonly int BusyLoad = Environment.ProcessorCount + 1;

    private static readonly CultureInfo Invariant = CultureInfo.InvariantCulture;

    /// <summary>One ratio of the report: <see cref="Numerator"/>'s latency over <see cref="Denominator"/>'s on one link.</summary>
    public sealed record Comparison(string Name, LinkKind Link, CapnpCell? Numerator, CapnpCell? Denominator, double? Target)
    {
        public double? P50Ratio => IsMeasured ? Numerator!.P50Microseconds / Denominator!.P50Microseconds : null;

        public double? P99Ratio => IsMeasured ? Numerator!.P99Microseconds / Denominator!.P99Microseconds : null;

        /// <summary>"met", "**missed**", "no target" or "not measured".</summary>
        public string Verdict => P50Ratio is not { } ratio ? "not measured" : Target is not { } target ? "no target" : ratio <= target ? "met" : "**missed**";

        private bool IsMeasured => Numerator is { IsMeasured: true } && Denominator is { IsMeasured: true, P50Microseconds: > 0, P99Microseconds: > 0 };
    }

    /// <summary>The headline transport ratio: the generated proxy (how a user calls) over the message transport.</summary>
    public const string TransportName = "1. Cap'n Proto generated proxy ÷ message transport: echo, C# → C#";

    /// <summary>The headline pipelining ratio, through the generated proxy.</summary>
    public const string PipeliningName = "2. pipelined ÷ awaited: 3-call chain, C# → C#, generated proxy";

    /// <summary>The headline client ratio: the generated proxy against the C++ server, over the C++ client.</summary>
    public const string ClientName = "3. C# generated proxy ÷ C++ client: echo against the C++ server";

    /// <summary>Release latency (a dropped capability until the server disposed it), C# → C# through the generated proxy, over C++ → C++.</summary>
    public const string ReleaseName = "4. release latency (drop → server-side dispose), C# → C# generated ÷ C++ → C++";

    /// <summary>
    /// The ratios of <paramref name="pass"/>, link by link: transport, pipelining, client. The headline
    /// of each (the one with a target) goes through the generated <see cref="IBenchNode"/> proxy; the
    /// low-level client's rows stay as references.
    /// </summary>
    public static IReadOnlyList<Comparison> Comparisons(CapnpPass pass)
    {
        var comparisons = new List<Comparison>();
        foreach (var link in pass.Cells.Select(c => c.Link).Distinct())
        {
            CapnpCell? Cell(CapnpPair pair, CapnpWorkload workload) => pass.Cells.FirstOrDefault(c => c.Link == link && c.Pair == pair && c.Workload == workload);
            comparisons.Add(new(TransportName, link, Cell(CapnpPair.CSharpGenerated, CapnpWorkload.Echo), Cell(CapnpPair.Message, CapnpWorkload.Echo), TransportRatioTarget));
            comparisons.Add(new("1. Cap'n Proto low-level ÷ message transport: echo, C# → C# (reference)", link, Cell(CapnpPair.CSharp, CapnpWorkload.Echo), Cell(CapnpPair.Message, CapnpWorkload.Echo), null));
            comparisons.Add(new("1. generated proxy ÷ low-level: echo, Cap'n Proto C# → C#", link, Cell(CapnpPair.CSharpGenerated, CapnpWorkload.Echo), Cell(CapnpPair.CSharp, CapnpWorkload.Echo), null));
            comparisons.Add(new(PipeliningName, link, Cell(CapnpPair.CSharpGenerated, CapnpWorkload.ChainPipelined), Cell(CapnpPair.CSharpGenerated, CapnpWorkload.ChainAwaited), PipeliningRatioTarget));
            comparisons.Add(new("2. pipelined ÷ awaited: 3-call chain, C# → C#, low-level (reference)", link, Cell(CapnpPair.CSharp, CapnpWorkload.ChainPipelined), Cell(CapnpPair.CSharp, CapnpWorkload.ChainAwaited), null));
            comparisons.Add(new("2. pipelined ÷ awaited: 3-call chain, C++ → C++ (reference)", link, Cell(CapnpPair.Cpp, CapnpWorkload.ChainPipelined), Cell(CapnpPair.Cpp, CapnpWorkload.ChainAwaited), null));
            comparisons.Add(new("2. pipelined ÷ awaited: 3-call chain, C# generated proxy → C++ server", link, Cell(CapnpPair.CSharpGeneratedToCpp, CapnpWorkload.ChainPipelined), Cell(CapnpPair.CSharpGeneratedToCpp, CapnpWorkload.ChainAwaited), null));
            comparisons.Add(new("2. pipelined ÷ awaited: 3-call chain, C# low-level → C++ server", link, Cell(CapnpPair.CSharpToCpp, CapnpWorkload.ChainPipelined), Cell(CapnpPair.CSharpToCpp, CapnpWorkload.ChainAwaited), null));
            comparisons.Add(new(ClientName, link, Cell(CapnpPair.CSharpGeneratedToCpp, CapnpWorkload.Echo), Cell(CapnpPair.Cpp, CapnpWorkload.Echo), link == LinkKind.Uds ? ClientRatioTarget : null));
            comparisons.Add(new("3. C# low-level client ÷ C++ client: echo against the C++ server (reference)", link, Cell(CapnpPair.CSharpToCpp, CapnpWorkload.Echo), Cell(CapnpPair.Cpp, CapnpWorkload.Echo), null));
            comparisons.Add(new("3. C# generated proxy ÷ C++ client: pipelined chain against the C++ server", link, Cell(CapnpPair.CSharpGeneratedToCpp, CapnpWorkload.ChainPipelined), Cell(CapnpPair.Cpp, CapnpWorkload.ChainPipelined), null));
            comparisons.Add(new(ReleaseName, link, Cell(CapnpPair.CSharpGenerated, CapnpWorkload.Release), Cell(CapnpPair.Cpp, CapnpWorkload.Release), null));
            comparisons.Add(new("4. release latency, C# generated proxy → C++ server ÷ C++ → C++", link, Cell(CapnpPair.CSharpGeneratedToCpp, CapnpWorkload.Release), Cell(CapnpPair.Cpp, CapnpWorkload.Release), null));
        }

        return comparisons;
    }

    /// <summary>The whole report as Markdown.</summary>
    public static string Render(CapnpReport report)
    {
        var md = new StringBuilder();
        md.AppendLine("# RpcGen Cap'n Proto benchmarks").AppendLine();
        md.AppendLine(Invariant, $"Generated {report.Started:yyyy-MM-dd HH:mm} UTC by `{report.Command}` ({report.Options.Mode} mode) in {ReportWriter.Duration(report.TotalSeconds)}.").AppendLine();
        md.AppendLine(Invariant, $"Machine: {report.Machine}.").AppendLine();
        md.AppendLine("Process model: the C# Cap'n Proto client and server (`src/RpcGen.Transport.Capability`) and the message transport's client and server " +
                      "run in **this one process**; the C++ server and the C++ client are child processes built from " +
                      "[`Capnp/Native`](../Capnp/Native) with the installed Cap'n Proto (`EzRpcServer`/`EzRpcClient`). Links: loopback TCP (127.0.0.1, Nagle off) " +
                      "and a Unix domain socket. One caller, sequential operations: p50/p99 are per operation (one echo call, or one whole three-call chain).").AppendLine();
        md.Append("Passes: ");
        md.AppendLine(string.Join("; ", report.Passes.Select(p => p.Failure is null
            ? $"**{p.Label}** — {p.Affinity}, {p.Cpus} CPU(s), {Tiering(p)}, {ReportWriter.Duration(p.Seconds)}, load average {Load(p.LoadBefore)} → {Load(p.LoadAfter)}"
            : $"**{p.Label}** — did not run: {p.Failure}")) + ".");
        md.AppendLine();
        var busy = report.Passes.Where(p => p.Failure is null && Math.Max(p.LoadBefore, p.LoadAfter) > BusyLoad).ToList();
        if (busy.Count > 0)
        {
            md.AppendLine(Invariant, $"> **Warning:** the machine was busy with other work during the {string.Join(" and ", busy.Select(p => p.Label))} pass " +
                                     $"(1-minute load average above {BusyLoad}, more than the harness itself makes); absolute figures are pessimistic and noisy, ratios less so.").AppendLine();
        }

        foreach (var pass in report.Passes.Where(p => p.Failure is null))
        {
            md.AppendLine(Invariant, $"## {char.ToUpperInvariant(pass.Label[0])}{pass.Label[1..]}: {pass.Affinity}").AppendLine();
            if (pass.NativeUnavailable is { } native)
            {
                md.AppendLine(Invariant, $"> The C++ cells did not run: {native}").AppendLine();
            }

            RenderComparisons(md, pass);
            RenderCells(md, pass);
        }

        RenderMethod(md, report);
        return md.ToString();
    }

    private static void RenderComparisons(StringBuilder md, CapnpPass pass)
    {
        md.AppendLine("### Ratios").AppendLine();
        md.AppendLine("Latency of the first over the second; the verdict judges the p50 ratio.").AppendLine();
        md.AppendLine("| comparison | link | p50 ratio | p99 ratio | p50 (µs) | p99 (µs) | target | verdict |");
        md.AppendLine("|---|---|---|---|---|---|---|---|");
        foreach (var c in Comparisons(pass))
        {
            md.AppendLine(Invariant, $"| {c.Name} | {LinkName(c.Link)} | {Ratio(c.P50Ratio)} | {Ratio(c.P99Ratio)} | " +
                                     $"{Pair(c.Numerator, c.Denominator, static x => x.P50Microseconds)} | {Pair(c.Numerator, c.Denominator, static x => x.P99Microseconds)} | " +
                                     $"{(c.Target is { } t ? "≤ " + t.ToString("0.0", Invariant) + "×" : "—")} | {c.Verdict} |");
        }

        md.AppendLine();
    }

    private static void RenderCells(StringBuilder md, CapnpPass pass)
    {
        md.AppendLine("### Every cell").AppendLine();
        md.AppendLine("| link | client → server | operation | operations | p50 (µs) | p99 (µs) | operations/s | B/operation (this process) | warmup |");
        md.AppendLine("|---|---|---|---|---|---|---|---|---|");
        foreach (var cell in pass.Cells)
        {
            if (!cell.IsMeasured)
            {
                md.AppendLine(Invariant, $"| {LinkName(cell.Link)} | {cell.Pair.Display()} | {cell.Workload.Display()} | {cell.Unavailable ?? "no operations measured"} | | | | | |");
                continue;
            }

            var allocated = cell.AllocatedBytesPerOperation is { } bytes ? ReportWriter.Bytes(bytes) : "— (C++ client)";
            md.AppendLine(Invariant, $"| {LinkName(cell.Link)} | {cell.Pair.Display()} | {cell.Workload.Display()} | {ReportWriter.Count(cell.Operations)} | " +
                                     $"{ReportWriter.Us(cell.P50Microseconds)} | {ReportWriter.Us(cell.P99Microseconds)} | {ReportWriter.Count(cell.OperationsPerSecond)} | {allocated} | " +
                                     $"{cell.WarmupSeconds:0.0#} s{(cell.JitSettled ? string.Empty : " (JIT still compiling)")} |");
        }

        md.AppendLine();
    }

    private static void RenderMethod(StringBuilder md, CapnpReport report)
    {
        var options = report.Options;
        md.AppendLine("## Method").AppendLine();
        md.AppendLine("- Commands:");
        md.AppendLine("  - this report: `" + report.Command + "`");
        md.AppendLine("  - full: `dotnet run -c Release --project tests/RpcGen.Benchmarks -- --capnp`; quick: add `--quick`; one pass: `--affinity pinned` or `--affinity unpinned`");
        md.AppendLine("- Schema: [`Capnp/Native/bench.capnp`](../Capnp/Native/bench.capnp). `echoSmall` echoes a `Small` struct with the five fields of the message " +
                      "transport's `SmallMessage` (Int32, Text, Float64, Int64, Bool); the C# side writes the request from a `SmallMessage` and reads the answer into a new one, " +
                      "and the C# servers decode and re-encode it the same way (the C++ server copies field by field). `next()` (and `nextAwaited()`, the same) returns a new node one deeper, `read()` its depth. " +
                      "The schema is the generated binding of the C# contract [`Capnp/IBenchNode.cs`](../Capnp/IBenchNode.cs) (same interface id and ordinals, `SmallMessage` laid out as `Small`), " +
                      "so one C++ server answers the generated proxy, the low-level client and the C++ client.");
        md.AppendLine("- Message transport: the harness's RpcGen peer (`RpcServer`/`RpcClient`, default options, generated proxy and dispatcher), `IBenchService.EchoSmallAsync(SmallMessage)` on the same link kind.");
        md.AppendLine("- Cap'n Proto C#, generated proxy (the headline rows): `CapnpServer.Listen<IBenchNode>(address, new BenchNodeService(0))`, `connection.Bootstrap<IBenchNode>()`, then calls through the interface. " +
                      "Echo: `await node.EchoAsync(small)`. Pipelined: `node.Next().Next().ReadAsync()` (`Next()` returns a promise at once), only the read awaited. " +
                      "Awaited: `await node.NextAsync()`, `await` its `NextAsync()`, then `ReadAsync()`. The received nodes are disposed after each chain.");
        md.AppendLine("- Release latency (rows 4): `nextTracked()` returns a node whose disposal (C#) or destruction (C++) the server tracks; the client reads it (so it holds the import), " +
                      "then drops it (`Dispose()` on the generated proxy; the C++ client lets its last `Client` go) and at once calls `waitDropped()`, which returns once no tracked node is alive. " +
                      "The operation timed is drop → that return: the release travels, the server disposes the node, and one more round trip. Only the drop part of each operation is timed.");
        md.AppendLine("- Cap'n Proto C#, low-level (reference rows): `CapnpServer.Listen` serving `BenchNodeServer`, `CapnpConnection.ConnectAsync` and `Bootstrap()`, then `Capability.NewRequest` → `Send()` → `CallPromise`. " +
                      "Pipelined: `root.next()`, `.next()` on its `GetPipelinedCapability(0)`, `.read()` on that one's, only the last awaited. Awaited: each call awaited and its capability read from the results before the next is sent.");
        md.AppendLine("- C++: `bench-server` (EzRpcServer) and `bench-client` (EzRpcClient) built with `capnp compile -oc++` and `g++ -std=c++17 -O2 -DNDEBUG $(pkg-config --cflags --libs capnp-rpc)` into " +
                      "`$TMPDIR/rpcgen-bench-capnp/<content hash>`. The C++ client checks one result, warms up, times each operation with `std::chrono::steady_clock` and prints the latencies; the harness takes percentiles of them as of its own.");
        md.AppendLine(Invariant, $"- Timing: one caller per cell, call → await → record (the harness's `CallLoop`/`CallerRecorder`), nearest-rank p50/p99 over every measured operation. " +
                                 $"A C# cell warms up for at least {options.Warmup.TotalSeconds:0.###} s and then until no method has been compiled for {options.JitQuietPeriod.TotalSeconds:0.###} s " +
                                 $"(at most {options.MaxWarmup.TotalSeconds:0.###} s; the warmup column says how long it took); the C++ client warms up for {options.Warmup.TotalSeconds:0.###} s at the start of each of its runs " +
                                 $"(every run is a new process). Then " +
                                 $"{options.Rounds} round(s) of {options.Measure.TotalSeconds:0.###} s or {ReportWriter.Count(options.MaxCallsPerRound)} operations per cell, whichever ends first; " +
                                 $"each round measures every cell of a link in turn, so the cells of a ratio are measured close together. Any phase that takes {options.Timeout.TotalSeconds:0} s longer than planned fails its cell.");
        md.AppendLine(Invariant, $"- JIT: the harness restarts itself with `{TieredJit.CallCountingDelayVariable}=0` (unless it is set), and the pinned pass inherits it. With the runtime's default delay " +
                                 $"(100 ms, ×10 on one CPU, restarted by every tier-0 compilation) the Cap'n Proto call path was still tier-0 code after 4 s of calls unpinned and 10 s pinned on " +
                                 $"the development VM, so a warmup of a fraction of a second compared tier-0 code; with 0 it reaches tier 1 (with dynamic PGO) after about 1.5 s of calls. Steady-state code is the same either way.");
        md.AppendLine("- Allocation: `GC.GetTotalAllocatedBytes(precise: true)` across the measured rounds per operation, process-wide, so C# → C# cells count client + server and C# → C++ cells the client only.");
        md.AppendLine("- Correctness first: before measuring, each C# client checks the echo and both chains (depth 2) against its server; the C++ client checks one operation in every run.");
    }

    private static string Pair(CapnpCell? numerator, CapnpCell? denominator, Func<CapnpCell, double> value) =>
        numerator is { IsMeasured: true } && denominator is { IsMeasured: true }
            ? $"{ReportWriter.Us(value(numerator))} vs {ReportWriter.Us(value(denominator))}"
            : "—";

    private static string Ratio(double? ratio) => ratio is { } r ? ReportWriter.Ratio(r) : "—";

    private static string LinkName(LinkKind link) => link == LinkKind.Tcp ? "TCP" : "UDS";

    private static string Tiering(CapnpPass pass) => TieredJit.Describe(pass.CallCountingDelayMs);

    private static string Load(double load) => load < 0 ? "unknown" : load.ToString("0.00", Invariant);
}
