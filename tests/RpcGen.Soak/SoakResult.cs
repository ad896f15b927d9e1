using System.Globalization;
using System.Text;

namespace RpcGen.Soak;

/// <summary>What a soak run counted and measured, its verdicts, and the table that reports them.</summary>
public sealed class SoakResult(SoakOptions options)
{
    private readonly List<(string Name, CallLedger Ledger)> _phases = new();

    public SoakOptions Options { get; } = options;

    public Dictionary<string, TimeSpan> PhaseTimes { get; } = new();

    public ResourceSnapshot? Baseline { get; set; }

    public ResourceSnapshot? End { get; set; }

    public double UnloadedP99Micros { get; set; }

    public double LoadedP99Micros { get; set; }

    public long LoadedSamples { get; set; }

    /// <summary>Sequential unary calls per second while the unloaded p99 was taken (one call in flight).</summary>
    public double UnloadedCallsPerSecond { get; set; }

    /// <summary>The paced probe's p99 (open loop, below saturation): the latency verdict's measure.</summary>
    public double PacedP99Micros { get; set; }

    public long PacedSamples { get; set; }

    /// <summary>The paced probe's unary calls started per second.</summary>
    public double PacedProbeRate { get; set; }

    /// <summary>The paced background's mixed calls started per second.</summary>
    public double PacedBackgroundRate { get; set; }

    /// <summary>How late the paced generators started a call at worst (timer granularity, a busy machine).</summary>
    public TimeSpan PacedWorstLateStart { get; set; }

    /// <summary>The paced phase's profile, with <see cref="SoakOptions.Profile"/>; null otherwise.</summary>
    public TailProfile? Profile { get; set; }

    public long ReconnectCycles { get; set; }

    public bool SettledConnections { get; set; }

    public bool SettledHandlers { get; set; }

    public int ServerConnectionsAtEnd { get; set; }

    public int HangingAtEnd { get; set; }

    /// <summary>Call ids the server ran twice: duplication.</summary>
    public int RunTwice { get; set; }

    public TimeSpan Elapsed { get; set; }

    public IEnumerable<(string Name, CallLedger Ledger)> Phases => _phases;

    /// <summary>A new phase's ledger, reported in the order phases began.</summary>
    public CallLedger Phase(string name)
    {
        var ledger = new CallLedger();
        _phases.Add((name, ledger));
        return ledger;
    }

    public long Total(Func<CallLedger.KindCounts, long> field) => _phases.Sum(p => p.Ledger.Total(field));

    public long ManagedGrowth => End!.ManagedBytes - Baseline!.ManagedBytes;

    public long WorkingSetGrowth => End!.WorkingSetBytes - Baseline!.WorkingSetBytes;

    public int DescriptorGrowth => End!.OpenDescriptors - Baseline!.OpenDescriptors;

    /// <summary>Closed-loop mixed load over unloaded: mostly queueing behind the load's own callers; reported, not judged.</summary>
    public double LoadedLatencyRatio => UnloadedP99Micros > 0 ? LoadedP99Micros / UnloadedP99Micros : double.NaN;

    /// <summary>Paced (open-loop, below saturation) over unloaded: the latency verdict's ratio.</summary>
    public double LatencyRatio => UnloadedP99Micros > 0 ? PacedP99Micros / UnloadedP99Micros : double.NaN;

    /// <summary>No call lost, duplicated, answered with another call's data or failed unprovoked.</summary>
    public bool CallsCorrect =>
        Total(k => k.Lost) == 0 && Total(k => k.CrossTalk) == 0 && Total(k => k.Unexpected) == 0 && RunTwice == 0
        && Total(k => k.Issued) == Total(k => k.Ok) + Total(k => k.Provoked);

    /// <summary>Connections closed, cancelled handlers ended, memory and descriptors back within tolerance.</summary>
    public bool ResourcesReturned =>
        SettledConnections && SettledHandlers
        && ManagedGrowth <= Options.ManagedToleranceBytes
        && WorkingSetGrowth <= Options.WorkingSetToleranceBytes
        && DescriptorGrowth <= Options.DescriptorTolerance;

    /// <summary>The soak's latency verdict; it does not decide the exit code.</summary>
    public bool LatencyWithinLimit => LatencyRatio <= Options.LatencyRatioLimit;

    /// <summary>The verdict that decides the exit code: correctness and leaks, not latency.</summary>
    public bool Passed => CallsCorrect && ResourcesReturned;

    public string ToMarkdown(string command)
    {
        var md = new StringBuilder();
        var c = CultureInfo.InvariantCulture;
        md.AppendLine(c, $"`{command}` — {Options.Transport}, {Elapsed.TotalMinutes:0.0} min, {Environment.ProcessorCount} cores, {DateTime.UtcNow:yyyy-MM-dd HH:mm} UTC");
        md.AppendLine();
        md.AppendLine("| phase | calls | ok | provoked failures | cross-talk | lost | unexpected errors | time | calls/s |");
        md.AppendLine("|---|---:|---:|---:|---:|---:|---:|---:|---:|");
        foreach (var (name, ledger) in _phases)
        {
            var issued = ledger.Total(k => k.Issued);
            var time = PhaseTimes.TryGetValue(name, out var t) ? t : (TimeSpan?)null;
            var rate = time is { TotalSeconds: > 0 } ? (issued / time.Value.TotalSeconds).ToString("N0", c) : "";
            md.AppendLine(c, $"| {name} | {issued:N0} | {ledger.Total(k => k.Ok):N0} | {ledger.Total(k => k.Provoked):N0} | {ledger.Total(k => k.CrossTalk):N0} | {ledger.Total(k => k.Lost):N0} | {ledger.Total(k => k.Unexpected):N0} | {(time is null ? "" : $"{time.Value.TotalSeconds:0.0} s")} | {rate} |");
            if (name is "mixed" or "paced")
            {
                foreach (var (kind, counts) in ledger.Kinds)
                {
                    md.AppendLine(c, $"| &nbsp;&nbsp;{kind} | {counts.Issued:N0} | {counts.Ok:N0} | {counts.Provoked:N0} | {counts.CrossTalk:N0} | {counts.Lost:N0} | {counts.Unexpected:N0} | | |");
                }
            }
        }

        md.AppendLine();
        md.AppendLine("| check | baseline | end | limit | verdict |");
        md.AppendLine("|---|---:|---:|---:|---|");
        md.AppendLine(c, $"| calls: every answer matched its request, none lost, none failed unprovoked | | {Total(k => k.Issued):N0} calls | 0 wrong | {Verdict(CallsCorrect)} |");
        md.AppendLine(c, $"| duplication: call ids the server ran twice | | {RunTwice} | 0 | {Verdict(RunTwice == 0)} |");
        md.AppendLine(c, $"| reconnect cycles (server restart or client redial, a call in flight each time) | | {ReconnectCycles:N0} | | |");
        md.AppendLine(c, $"| server connections after clients closed (the primary stays) | 1 | {ServerConnectionsAtEnd} | 1 | {Verdict(SettledConnections)} |");
        md.AppendLine(c, $"| cancelled or expired handlers still running | 0 | {HangingAtEnd} | 0 | {Verdict(SettledHandlers)} |");
        md.AppendLine(c, $"| managed heap after forced GC | {Mb(Baseline!.ManagedBytes)} | {Mb(End!.ManagedBytes)} | +{Mb(Options.ManagedToleranceBytes)} | {Verdict(ManagedGrowth <= Options.ManagedToleranceBytes)} |");
        md.AppendLine(c, $"| working set | {Mb(Baseline.WorkingSetBytes)} | {Mb(End.WorkingSetBytes)} | +{Mb(Options.WorkingSetToleranceBytes)} | {Verdict(WorkingSetGrowth <= Options.WorkingSetToleranceBytes)} |");
        md.AppendLine(c, $"| /proc/self/fd entries (without libraries) | {Baseline.OpenDescriptors} | {End.OpenDescriptors} | +{Options.DescriptorTolerance} | {Verdict(DescriptorGrowth <= Options.DescriptorTolerance)} |");
        foreach (var kind in Baseline.Descriptors.Keys.Union(End.Descriptors.Keys).Order(StringComparer.Ordinal))
        {
            md.AppendLine(c, $"| &nbsp;&nbsp;{kind} | {Baseline.Descriptors.GetValueOrDefault(kind)} | {End.Descriptors.GetValueOrDefault(kind)} | | |");
        }

        md.AppendLine(c, $"| threads (reported, not judged) | {Baseline.Threads} | {End.Threads} | | |");
        md.AppendLine(c, $"| p99 unary round trip: unloaded ({UnloadedCallsPerSecond:N0} sequential calls/s) → under the closed-loop mixed load, mostly queueing ({LoadedSamples:N0} samples; reported, not judged) | {UnloadedP99Micros:N0} µs | {LoadedP99Micros:N0} µs ({LoadedLatencyRatio:0.0}×) | | |");
        md.AppendLine(c, $"| p99 unary round trip: unloaded → paced, {PacedProbeRate:N0} calls/s ({Options.PacedProbeFraction:0%} of unloaded) beside {PacedBackgroundRate:N0} mixed calls/s ({Options.PacedBackgroundFraction:0%} of mixed) for {Options.PacedDuration.TotalSeconds:0} s ({PacedSamples:N0} samples; worst late start {PacedWorstLateStart.TotalMilliseconds:0.0} ms) | {UnloadedP99Micros:N0} µs | {PacedP99Micros:N0} µs ({LatencyRatio:0.0}×) | {Options.LatencyRatioLimit:0}× | {Verdict(LatencyWithinLimit)} |");
        md.AppendLine();
        md.AppendLine(c, $"Verdict: **{(Passed ? "PASS" : "FAIL")}** (correctness and leaks; latency is reported{(LatencyWithinLimit ? "" : " and over its limit")}).");
        foreach (var error in _phases.SelectMany(p => p.Ledger.Errors).Take(10))
        {
            md.AppendLine(c, $"- {error}");
        }

        if (Profile is not null)
        {
            md.AppendLine();
            md.Append(Profile.ToMarkdown());
        }

        return md.ToString();
    }

    private static string Verdict(bool ok) => ok ? "pass" : "FAIL";

    private static string Mb(long bytes) => (bytes / (1024.0 * 1024)).ToString("0.0", CultureInfo.InvariantCulture) + " MB";
}
