using System.Globalization;
using System.Text;

namespace RpcGen.Benchmarks.Harness;

/// <summary>Renders a <see cref="ComparisonReport"/> as Markdown: targets first, then absolute figures and ratios to RpcGen.</summary>
public static class ReportWriter
{
    /// <summary>Issue A's targets.</summary>
    public const double SingleCallerRatioTarget = 1.3;
    public const double SecurityLatencyTarget = 1.3;
    public const double ConcurrentCallsPerSecondTarget = 500_000;
    public const double AllocatedBytesTarget = 256;
    public const int ConcurrentCallers = 64;

    // The harness keeps about one runnable thread per CPU busy itself; more than that means other work.
    private static readonly int BusyLoad = Environment.ProcessorCount + 1;

    private static readonly CultureInfo Invariant = CultureInfo.InvariantCulture;

    public static string FormatProgress(CellResult r)
    {
        var head = $"{r.Peer.Display(),-22} {r.Link,-4} {r.Workload.ShortName(),-7} x{r.Callers,-3}";
        if (!r.IsMeasured)
        {
            return head + " " + r.Unavailable;
        }

        return r.Workload.IsUnary()
            ? head + $" p50 {Us(r.P50Microseconds),8} µs  p99 {Us(r.P99Microseconds),8} µs  {Count(r.OperationsPerSecond),10} calls/s  {Bytes(r.AllocatedBytesPerOperation),8} B/call"
            : head + $" p50 {Ms(r.P50Microseconds),8} ms/run  {Rate(r),16}  {Bytes(r.AllocatedBytesPerOperation),8} B/{OperationName(r.Workload)}";
    }

    public static string Render(ComparisonReport report)
    {
        var md = new StringBuilder();
        md.AppendLine("# RpcGen benchmark comparison").AppendLine();
        md.AppendLine(Invariant, $"Generated {report.Started:yyyy-MM-dd HH:mm} UTC by `{report.Command}` ({report.Mode} mode) in {Duration(report.TotalSeconds)}.").AppendLine();
        md.AppendLine(Invariant, $"Machine: {report.Machine}.").AppendLine();
        md.AppendLine("Process model: the client and the server of every peer run in **one process** (this harness) and talk over loopback " +
                      "TCP (127.0.0.1, Nagle off) or a Unix domain socket. Allocation figures are process-wide " +
                      "(`GC.GetTotalAllocatedBytes(precise: true)` across the measured phase), so **B/call is client + server**.").AppendLine();
        md.Append("Passes: ");
        md.AppendLine(string.Join("; ", report.Runs.Select(r => r.Failure is null
            ? $"**{r.Label}** — {r.Affinity}, {r.Cpus} CPU(s), {TieredJit.Describe(r.CallCountingDelayMs)}, {Duration(r.Seconds)}, load average {Load(r.LoadBefore)} → {Load(r.LoadAfter)}"
            : $"**{r.Label}** — did not run: {r.Failure}")) + ".");
        md.AppendLine();
        var busy = report.Runs.Where(r => r.Failure is null && Math.Max(r.LoadBefore, r.LoadAfter) > BusyLoad).ToList();
        if (busy.Count > 0)
        {
            md.AppendLine(Invariant, $"> **Warning:** the machine was busy with other work during the {string.Join(" and ", busy.Select(r => r.Label))} pass " +
                                     $"(1-minute load average above {BusyLoad}, more than the harness itself makes); absolute figures are pessimistic and noisy, ratios less so.").AppendLine();
        }

        md.AppendLine("Chart: [latest.svg](latest.svg) (headline pass, TCP).").AppendLine();

        foreach (var run in report.Runs.Where(r => r.Failure is null))
        {
            var headline = ReferenceEquals(run, report.Headline) ? " (headline)" : string.Empty;
            md.AppendLine(Invariant, $"## {Capitalize(run.Label)}{headline}: {run.Affinity}").AppendLine();
            RenderTargets(md, run, report.Options);
            foreach (var link in report.Options.Links)
            {
                RenderUnary(md, run, link, report.Options);
            }

            RenderRuns(md, run, report.Options);
        }

        RenderMethod(md, report);
        return md.ToString();
    }

    private static void RenderTargets(StringBuilder md, AffinityRun run, CompareOptions options)
    {
        md.AppendLine("### Targets (small DTO)").AppendLine();
        md.AppendLine("| target | link | measured | verdict |");
        md.AppendLine("|---|---|---|---|");
        foreach (var link in options.Links)
        {
            var rpc1 = Find(run, PeerKind.RpcGen, link, Workload.Small, 1);
            var raw1 = Find(run, PeerKind.Raw, link, Workload.Small, 1);
            if (Measured(rpc1) && Measured(raw1))
            {
                var ratio = rpc1!.P50Microseconds / raw1!.P50Microseconds;
                md.AppendLine(Invariant, $"| 1 caller: RpcGen p50 ≤ {SingleCallerRatioTarget:0.0}× raw floor | {link} | {Ratio(ratio)} ({Us(rpc1.P50Microseconds)} µs vs {Us(raw1.P50Microseconds)} µs; calls/s {Count(rpc1.OperationsPerSecond)} vs {Count(raw1.OperationsPerSecond)}) | {Verdict(ratio <= SingleCallerRatioTarget)} |");
            }
            else
            {
                md.AppendLine(Invariant, $"| 1 caller: RpcGen p50 ≤ {SingleCallerRatioTarget:0.0}× raw floor | {link} | {Why(rpc1, raw1)} | — |");
            }
        }

        foreach (var link in options.Links)
        {
            var rpc64 = Find(run, PeerKind.RpcGen, link, Workload.Small, ConcurrentCallers);
            var floor64 = Find(run, PeerKind.RawCoalesced, link, Workload.Small, ConcurrentCallers);
            if (Measured(rpc64) && Measured(floor64))
            {
                md.AppendLine(Invariant, $"| {ConcurrentCallers} callers (no target): RpcGen calls/s as a share of the coalesced raw floor | {link} | {Ratio(rpc64!.OperationsPerSecond / floor64!.OperationsPerSecond)} ({Count(rpc64.OperationsPerSecond)} vs {Count(floor64.OperationsPerSecond)} calls/s) | — |");
            }
        }

        foreach (var link in options.Links)
        {
            foreach (var callers in options.CallerCounts)
            {
                var hop = Find(run, PeerKind.RpcGen, link, Workload.Small, callers);
                var inline = Find(run, PeerKind.RpcGenInline, link, Workload.Small, callers);
                if (Measured(hop) && Measured(inline))
                {
                    md.AppendLine(Invariant, $"| cost of running handlers off the reader (no target), {callers} caller{(callers == 1 ? "" : "s")}: default vs Inline | {link} | p50 {Ratio(hop!.P50Microseconds / inline!.P50Microseconds)} ({Us(hop.P50Microseconds)} vs {Us(inline.P50Microseconds)} µs); calls/s {Ratio(hop.OperationsPerSecond / inline.OperationsPerSecond)} ({Count(hop.OperationsPerSecond)} vs {Count(inline.OperationsPerSecond)}) | — |");
                }
            }
        }

        foreach (var link in options.Links)
        {
            RenderSecurityCost(md, run, link, PeerKind.RpcGenTls, PeerKind.RpcGen, "TLS vs plain");
            RenderSecurityCost(md, run, link, PeerKind.RpcGenTlsPsk, PeerKind.RpcGenTls, "TLS+PSK vs TLS");
        }

        foreach (var link in options.Links)
        {
            var rpc64 = Find(run, PeerKind.RpcGen, link, Workload.Small, ConcurrentCallers);
            md.AppendLine(Measured(rpc64)
                ? $"| {ConcurrentCallers} callers, one connection: RpcGen ≥ 0.5 M calls/s | {link} | {Count(rpc64!.OperationsPerSecond)} calls/s ({Ratio(rpc64.OperationsPerSecond / ConcurrentCallsPerSecondTarget)} of target) | {Verdict(rpc64.OperationsPerSecond >= ConcurrentCallsPerSecondTarget)} |"
                : $"| {ConcurrentCallers} callers, one connection: RpcGen ≥ 0.5 M calls/s | {link} | {Why(rpc64)} | — |");
        }

        foreach (var link in options.Links)
        {
            foreach (var callers in options.CallerCounts)
            {
                var rpc = Find(run, PeerKind.RpcGen, link, Workload.Small, callers);
                md.AppendLine(Measured(rpc)
                    ? $"| ≤ {AllocatedBytesTarget:0} B allocated per call, client + server ({callers} caller{(callers == 1 ? "" : "s")}) | {link} | {Bytes(rpc!.AllocatedBytesPerOperation)} B | {Verdict(rpc.AllocatedBytesPerOperation <= AllocatedBytesTarget)} |"
                    : $"| ≤ {AllocatedBytesTarget:0} B allocated per call, client + server ({callers} caller{(callers == 1 ? "" : "s")}) | {link} | {Why(rpc)} | — |");
            }
        }

        md.AppendLine();
    }

    // What TLS (and the PSK layer inside it) costs: 1 caller p50 against the 1.3× target, 64 callers' calls/s as a ratio.
    private static void RenderSecurityCost(StringBuilder md, AffinityRun run, LinkKind link, PeerKind secured, PeerKind baseline, string label)
    {
        var one = Find(run, secured, link, Workload.Small, 1);
        var oneBase = Find(run, baseline, link, Workload.Small, 1);
        if (Measured(one) && Measured(oneBase))
        {
            var p50 = one!.P50Microseconds / oneBase!.P50Microseconds;
            md.AppendLine(Invariant, $"| {label}, 1 caller p50 ≤ {SecurityLatencyTarget:0.0}× | {link} | {Ratio(p50)} ({Us(one.P50Microseconds)} vs {Us(oneBase.P50Microseconds)} µs) | {Verdict(p50 <= SecurityLatencyTarget)} |");
        }
        else if (one is not null || oneBase is not null)
        {
            md.AppendLine(Invariant, $"| {label}, 1 caller p50 ≤ {SecurityLatencyTarget:0.0}× | {link} | {Why(one, oneBase)} | — |");
        }

        var many = Find(run, secured, link, Workload.Small, ConcurrentCallers);
        var manyBase = Find(run, baseline, link, Workload.Small, ConcurrentCallers);
        if (Measured(many) && Measured(manyBase))
        {
            md.AppendLine(Invariant, $"| {label}, {ConcurrentCallers} callers calls/s (no target) | {link} | {Ratio(many!.OperationsPerSecond / manyBase!.OperationsPerSecond)} ({Count(many.OperationsPerSecond)} vs {Count(manyBase.OperationsPerSecond)} calls/s) | — |");
        }
    }

    private static void RenderUnary(StringBuilder md, AffinityRun run, LinkKind link, CompareOptions options)
    {
        var rows = run.Results.Where(r => r.Link == link && r.Workload.IsUnary()).ToList();
        if (rows.Count == 0)
        {
            return;
        }

        md.AppendLine(Invariant, $"### Unary calls over {LinkName(link)}").AppendLine();
        md.AppendLine("| workload | callers | peer | p50 µs | p99 µs | calls/s | alloc B/call | p50 ÷ RpcGen | calls/s ÷ RpcGen |");
        md.AppendLine("|---|---:|---|---:|---:|---:|---:|---:|---:|");
        foreach (var workload in options.Workloads.Where(w => w.IsUnary()))
        {
            foreach (var callers in options.CallerCounts)
            {
                var reference = Find(run, PeerKind.RpcGen, link, workload, callers);
                foreach (var r in rows.Where(r => r.Workload == workload && r.Callers == callers).OrderBy(r => r.Peer))
                {
                    md.Append(Invariant, $"| {workload.Describe()} | {callers} | {r.Peer.Display()} | ");
                    if (!r.IsMeasured)
                    {
                        md.AppendLine(Invariant, $"{r.Unavailable} | — | — | — | — | — |");
                        continue;
                    }

                    var p50Ratio = Measured(reference) ? Ratio(r.P50Microseconds / reference!.P50Microseconds) : "—";
                    var rateRatio = Measured(reference) ? Ratio(r.OperationsPerSecond / reference!.OperationsPerSecond) : "—";
                    md.AppendLine(Invariant, $"{Us(r.P50Microseconds)} | {Us(r.P99Microseconds)} | {Count(r.OperationsPerSecond)} | {Bytes(r.AllocatedBytesPerOperation)} | {p50Ratio} | {rateRatio} |");
                }
            }
        }

        md.AppendLine();
    }

    private static void RenderRuns(StringBuilder md, AffinityRun run, CompareOptions options)
    {
        var rows = run.Results.Where(r => !r.Workload.IsUnary()).ToList();
        if (rows.Count == 0)
        {
            return;
        }

        md.AppendLine("### Server stream and upload").AppendLine();
        md.AppendLine(Invariant, $"Server stream: one call returning {options.StreamItems:N0} small items (each decoded by the client). " +
                                 $"Upload: {Size(options.UploadBytes)} in {Size(options.UploadChunkBytes)} chunks. p50/p99 are over whole runs; " +
                                 $"alloc is per item (stream) or per chunk (upload).").AppendLine();
        md.AppendLine("| workload | link | peer | runs | p50 per run | p99 per run | rate | alloc B/op | rate ÷ RpcGen |");
        md.AppendLine("|---|---|---|---:|---:|---:|---:|---:|---:|");
        foreach (var workload in options.Workloads.Where(w => !w.IsUnary()))
        {
            foreach (var link in options.Links)
            {
                var reference = Find(run, PeerKind.RpcGen, link, workload, 1);
                foreach (var r in rows.Where(r => r.Workload == workload && r.Link == link).OrderBy(r => r.Peer))
                {
                    md.Append(Invariant, $"| {workload.Describe()} | {link} | {r.Peer.Display()} | ");
                    if (!r.IsMeasured)
                    {
                        md.AppendLine(Invariant, $"{r.Unavailable} | — | — | — | — | — |");
                        continue;
                    }

                    var rateRatio = Measured(reference) ? Ratio(r.OperationsPerSecond / reference!.OperationsPerSecond) : "n/a";
                    md.AppendLine(Invariant, $"{r.Samples} | {Ms(r.P50Microseconds)} ms | {Ms(r.P99Microseconds)} ms | {Rate(r)} | {Bytes(r.AllocatedBytesPerOperation)} | {rateRatio} |");
                }
            }
        }

        md.AppendLine();
    }

    private static void RenderMethod(StringBuilder md, ComparisonReport report)
    {
        var o = report.Options;
        md.AppendLine("## Method").AppendLine();
        md.AppendLine(Invariant, $"- Unary cells: warm up for at least {o.Warmup.TotalSeconds:0.###} s and then until no method has been compiled for {o.JitQuietPeriod.TotalSeconds:0.###} s " +
                                 $"(at most {o.MaxWarmup.TotalSeconds:0.###} s), then measure until {o.Measure.TotalSeconds:0.###} s pass or {o.MaxCallsPerCell:N0} calls are made (whichever comes first). " +
                                 $"Every caller loops call → await → record; each call's latency is a `Stopwatch` timestamp difference stored in a preallocated array; " +
                                 $"p50/p99 are nearest-rank over all callers' calls; calls/s is calls over the phase's wall time.");
        md.AppendLine(Invariant, $"- JIT: the harness restarts itself with `{TieredJit.CallCountingDelayVariable}=0` (unless it is set, or `--jit default` asks for the runtime's default; the passes line says what each pass ran with), and the pinned pass inherits it. " +
                                 $"With the runtime's default delay (100 ms, ×10 on one CPU, restarted by every tier-0 compilation) call paths stayed at tier 0 for seconds of calls on the development VM, " +
                                 $"so a short warmup measured tier-0 code; steady-state code is the same either way.");
        md.AppendLine(Invariant, $"- N callers share **one connection** per peer. Requests are built once before measuring; responses are fully deserialized.");
        md.AppendLine(Invariant, $"- Stream/upload cells: one warmup run on a tenth of the work, then up to {o.StreamRuns} stream / {o.UploadRuns} upload runs within {o.StreamBudget.TotalSeconds:0} s (at least one).");
        md.AppendLine("- Each peer first echoes every workload once and the harness checks the reply, so a broken peer shows as an error, not a figure.");
        md.AppendLine("- Pinned means the whole process runs under `taskset -c 0`: client, server, socket completions and GC share one CPU. The harness spawns itself under taskset for that pass.");
        md.AppendLine("- A cell that shows “n/a …” or “error: …” instead of figures could not be measured (a feature the peer lacks, or a failure); nothing is substituted for it.");
        md.AppendLine("- Ratios: p50 ÷ RpcGen above 1 means the peer is slower than RpcGen; calls/s ÷ RpcGen above 1 means it is faster.");
        var notes = report.Runs.SelectMany(r => r.PeerNotes).GroupBy(n => n.Key).Select(g => g.First()).OrderBy(n => n.Key, StringComparer.Ordinal);
        foreach (var (peer, note) in notes)
        {
            md.AppendLine(Invariant, $"- {peer}: {note}.");
        }

        md.AppendLine();
    }

    public static CellResult? Find(AffinityRun run, PeerKind peer, LinkKind link, Workload workload, int callers) =>
        run.Results.FirstOrDefault(r => r.Peer == peer && r.Link == link && r.Workload == workload && r.Callers == callers);

    private static bool Measured(CellResult? r) => r is { IsMeasured: true, Operations: > 0 };

    private static string Why(params CellResult?[] cells) =>
        cells.FirstOrDefault(c => c is { IsMeasured: false })?.Unavailable ?? "not measured in this run";

    private static string Load(double load) => load < 0 ? "unknown" : load.ToString("0.00", Invariant);

    private static string Verdict(bool met) => met ? "met" : "**missed**";

    private static string LinkName(LinkKind link) => link == LinkKind.Tcp ? "TCP (127.0.0.1)" : "Unix domain socket";

    private static string Capitalize(string text) => text.Length == 0 ? text : char.ToUpperInvariant(text[0]) + text[1..];

    public static string Us(double microseconds) => microseconds.ToString(microseconds < 100 ? "0.0" : "N0", Invariant);

    public static string Ms(double microseconds) => (microseconds / 1000).ToString("N1", Invariant);

    public static string Count(double value) => value.ToString("N0", Invariant);

    public static string Bytes(double value) => value.ToString("N0", Invariant);

    public static string Ratio(double value) => value.ToString(value >= 10 ? "0.#" : "0.00", Invariant) + "×";

    public static string Rate(CellResult r) => r.Workload == Workload.Upload
        ? (r.BytesPerSecond / (1024 * 1024)).ToString("N0", Invariant) + " MiB/s"
        : Count(r.OperationsPerSecond) + " items/s";

    private static string OperationName(Workload workload) => workload == Workload.Upload ? "chunk" : "item";

    public static string Duration(double seconds) => seconds < 60
        ? seconds.ToString("0.0", Invariant) + " s"
        : $"{(int)(seconds / 60)} min {(int)(seconds % 60)} s";

    private static string Size(long bytes) => bytes >= 1024 * 1024
        ? (bytes / (1024 * 1024)).ToString(Invariant) + " MiB"
        : (bytes / 1024).ToString(Invariant) + " KiB";
}
