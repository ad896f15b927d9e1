using System.Diagnostics;
using System.Globalization;
using System.Text;

namespace RpcGen.Soak;

/// <summary>
/// Where the paced phase's slow calls spend their time (<c>--profile</c>). For each timed call it
/// keeps: how late the generator started it, when the server's handler ran (which splits the round
/// trip into the request leg and the answer leg), the GC pause time and collections that fell inside
/// it (<see cref="GC.GetTotalPauseDuration"/> and <see cref="GC.CollectionCount"/> before and after:
/// exact, since no managed thread starts or ends a call during a pause), the thread pool's queue at its
/// start, and the background calls in flight beside it on the same connection. The report compares the
/// slowest 1% with all calls. Everything is kept in arrays sized up front, so profiling adds no
/// allocation per call of its own beyond the reads it makes.
/// </summary>
public sealed class TailProfile
{
    private readonly Probe[] _probes;
    private readonly long[] _handlerAt;
    private readonly Background[] _background;
    private readonly int[] _inFlightByKind = new int[MixedCalls.Kinds.Length];
    private readonly GcPauseListener _gc = new();
    private readonly long _origin = Stopwatch.GetTimestamp();
    private int _probesInFlight;
    private long _probeCount;
    private long _backgroundCount;
    private long _allocatedAtStart;
    private long _allocatedAtEnd;
    private TimeSpan _elapsed;
    private ProcessCounters _countersAtStart;
    private ProcessCounters _counters;

    /// <param name="probes">Timed calls the phase starts.</param>
    /// <param name="background">Background calls the phase starts.</param>
    public TailProfile(long probes, long background)
    {
        _probes = new Probe[probes];
        _background = new Background[background];

        // Ledger ids of one phase count from 1 over probes and background together.
        _handlerAt = new long[probes + background + 2];
    }

    /// <summary>The harness's own and the runtime's bytes per timed call, measured before the phase (see <see cref="MeasureAllocationsAsync"/>).</summary>
    public (double Raw, double Timed)? BytesPerCall { get; private set; }

    /// <summary>
    /// Bytes the whole process (client and server) allocates per sequential echo: bare through the
    /// proxy, and as the paced phase issues it (ledger, recorder, checks around it).
    /// </summary>
    public async Task MeasureAllocationsAsync(ISoakService proxy, SoakService server, MixedCalls calls, int count)
    {
        var ledger = new CallLedger();
        var recorder = new LatencyRecorder();
        var before = GC.GetTotalAllocatedBytes(precise: true);
        for (var i = 1; i <= count; i++)
        {
            // Ids no ledger hands out; the server forgets each, as the checked calls make it.
            await proxy.EchoAsync(-i, "paced 1");
            server.Forget(-i);
        }

        var raw = GC.GetTotalAllocatedBytes(precise: true) - before;
        before = GC.GetTotalAllocatedBytes(precise: true);
        for (var i = 0; i < count; i++)
        {
            await ledger.TrackAsync("allocations", id => recorder.TimeAsync(() => calls.EchoAsync(proxy, id, $"paced {id}")));
        }

        var timed = GC.GetTotalAllocatedBytes(precise: true) - before;
        BytesPerCall = ((double)raw / count, (double)timed / count);
    }

    public void Start()
    {
        _allocatedAtStart = GC.GetTotalAllocatedBytes();
        _countersAtStart = ProcessCounters.Take();
    }

    public void Stop()
    {
        _allocatedAtEnd = GC.GetTotalAllocatedBytes();
        _counters = ProcessCounters.Take() - _countersAtStart;
        _elapsed = Stopwatch.GetElapsedTime(_origin);
        _gc.Dispose();
    }

    /// <summary>Called by the server's echo handler: when the handler of call <paramref name="callId"/> ran.</summary>
    public void HandlerRan(long callId)
    {
        if (callId > 0 && callId < _handlerAt.Length)
        {
            _handlerAt[callId] = Stopwatch.GetTimestamp();
        }
    }

    /// <summary>Runs timed call <paramref name="n"/> (ledger id <paramref name="id"/>), started <paramref name="late"/> behind schedule, and records what surrounded it.</summary>
    public async Task<CallOutcome> ProbeAsync(long n, TimeSpan late, long id, Func<Task<CallOutcome>> call)
    {
        var probe = new Probe
        {
            Id = id,
            Late = late,
            Queue = ThreadPool.PendingWorkItemCount,
            PauseBefore = GC.GetTotalPauseDuration(),
            Gen0Before = GC.CollectionCount(0),
            Gen1Before = GC.CollectionCount(1),
            InFlight = SnapshotInFlight(),
            ProbesInFlight = Interlocked.Increment(ref _probesInFlight) - 1,
            Start = Stopwatch.GetTimestamp(),
        };
        var outcome = await call();
        Interlocked.Decrement(ref _probesInFlight);
        probe.End = Stopwatch.GetTimestamp();
        probe.PauseInside = GC.GetTotalPauseDuration() - probe.PauseBefore;
        probe.Gen0Inside = GC.CollectionCount(0) - probe.Gen0Before;
        probe.Gen1Inside = GC.CollectionCount(1) - probe.Gen1Before;
        _probes[n] = probe;
        Interlocked.Increment(ref _probeCount);
        return outcome;
    }

    /// <summary>Runs background call <paramref name="n"/> of <paramref name="kind"/> and records when it was in flight.</summary>
    public async Task<CallOutcome> BackgroundAsync(long n, int kind, Func<Task<CallOutcome>> call)
    {
        var start = Stopwatch.GetTimestamp();
        Interlocked.Increment(ref _inFlightByKind[kind]);
        try
        {
            return await call();
        }
        finally
        {
            Interlocked.Decrement(ref _inFlightByKind[kind]);
            _background[n] = new Background(kind, start, Stopwatch.GetTimestamp());
            Interlocked.Increment(ref _backgroundCount);
        }
    }

    // The kinds in flight, one bit each, and how many calls in all.
    private (int Kinds, int Calls) SnapshotInFlight()
    {
        var kinds = 0;
        var calls = 0;
        for (var k = 0; k < _inFlightByKind.Length; k++)
        {
            var count = Volatile.Read(ref _inFlightByKind[k]);
            calls += count;
            kinds |= count > 0 ? 1 << k : 0;
        }

        return (kinds, calls);
    }

    /// <summary>The profile as Markdown: the slowest 1% of timed calls against all of them, cause by cause.</summary>
    public string ToMarkdown()
    {
        var c = CultureInfo.InvariantCulture;
        var probes = _probes.Where(p => p.End != 0).ToArray();
        var md = new StringBuilder();
        if (probes.Length == 0)
        {
            return "No timed call was profiled.\n";
        }

        var latency = probes.Select(Micros).Order().ToArray();
        var p50 = latency[(int)(0.50 * (latency.Length - 1))];
        var p99 = latency[(int)Math.Ceiling(0.99 * latency.Length) - 1];
        var slow = probes.Where(p => Micros(p) >= p99).ToArray();
        var background = _background.Where(b => b.End != 0).OrderBy(b => b.Start).ToArray();
        var pauses = _gc.Pauses();
        var seconds = _elapsed.TotalSeconds;

        md.AppendLine(c, $"Profile of the paced phase: {probes.Length:N0} timed calls, p50 {p50:N0} µs, p99 {p99:N0} µs; the slow set is the {slow.Length:N0} calls at or over the p99.");
        md.AppendLine();
        if (BytesPerCall is { } bytes)
        {
            md.AppendLine(c, $"Allocation, whole process (client and server), per sequential echo before the phase: {bytes.Raw:N0} B through the bare proxy, {bytes.Timed:N0} B as the paced phase issues it (ledger, recorder, checks).");
        }

        var calls = probes.Length + background.Length;
        md.AppendLine(c, $"Per call of the phase (timed and background, {calls:N0}): {_counters.Cpu.TotalMicroseconds / calls:N0} µs of CPU (whole process), {_counters.VoluntarySwitches / (double)calls:0.00} voluntary context switches (a thread went to sleep: each is a wake-up to come), {_counters.InvoluntarySwitches / (double)calls:0.00} involuntary (preempted).");
        md.AppendLine(c, $"During the phase: {(_allocatedAtEnd - _allocatedAtStart) / seconds / (1024 * 1024):0.0} MB/s allocated; {pauses.Count:N0} GC pauses ({pauses.Count / seconds:0.0}/s: gen0 {pauses.Count(p => p.Generation == 0)}, gen1 {pauses.Count(p => p.Generation == 1)}, gen2 {pauses.Count(p => p.Generation == 2)}), pause p50 {Pct(pauses, 0.5)} µs, p99 {Pct(pauses, 0.99)} µs, max {Pct(pauses, 1)} µs, {pauses.Sum(p => p.Length.TotalMilliseconds) / seconds / 10:0.00}% of the time paused.");
        md.AppendLine();
        md.AppendLine("| measure | all timed calls | slowest 1% |");
        md.AppendLine("|---|---:|---:|");
        Row(md, "round trip, mean µs", probes, slow, p => Micros(p));
        Row(md, "request leg (start → server handler runs), mean µs", probes, slow, p => LegMicros(p.Start, _handlerAt[p.Id]));
        Row(md, "answer leg (handler → caller resumes), mean µs", probes, slow, p => LegMicros(_handlerAt[p.Id], p.End));
        Share(md, "a GC pause fell inside the call", probes, slow, p => p.PauseInside > TimeSpan.Zero);
        Row(md, "GC pause inside the call, mean µs", probes, slow, p => p.PauseInside.TotalMicroseconds);
        Share(md, "a gen1 (or deeper) collection inside", probes, slow, p => p.Gen1Inside > 0);
        Row(md, "round trip minus the GC pause inside it, mean µs", probes, slow, p => Micros(p) - p.PauseInside.TotalMicroseconds);
        Row(md, "thread-pool queue at start, mean items", probes, slow, p => p.Queue);
        Share(md, "thread-pool queue not empty at start", probes, slow, p => p.Queue > 0);
        Row(md, "generator lateness at start, mean µs (not in the round trip)", probes, slow, p => p.Late.TotalMicroseconds);
        Share(md, "started over 1 ms late (the process did not run)", probes, slow, p => p.Late > TimeSpan.FromMilliseconds(1));
        Row(md, "other timed calls in flight at start, mean", probes, slow, p => p.ProbesInFlight);
        Share(md, "another timed call in flight at start (same generator wake, or not yet answered)", probes, slow, p => p.ProbesInFlight > 0);
        Row(md, "background calls in flight at start, mean", probes, slow, p => p.InFlight.Calls);
        for (var k = 0; k < MixedCalls.Kinds.Length; k++)
        {
            var kind = k;
            Share(md, $"overlapped a background {MixedCalls.Kinds[kind]} (in flight at any time during the call)", probes, slow, p => Overlaps(background, kind, p));
        }

        // Whether the tail is a few stalls (many slow calls started close together) or spread out.
        var episodes = new List<int>();
        long previous = long.MinValue;
        foreach (var start in slow.Select(p => p.Start).Order())
        {
            if (episodes.Count == 0 || start - previous > Stopwatch.Frequency / 200)
            {
                episodes.Add(0);
            }

            episodes[^1]++;
            previous = start;
        }

        md.AppendLine();
        md.AppendLine(c, $"The slow calls started in {episodes.Count:N0} episodes (slow starts less than 5 ms apart count as one); the largest holds {episodes.Max() / (double)slow.Length:0%} of them, the five largest {episodes.OrderDescending().Take(5).Sum() / (double)slow.Length:0%}.");

        // How much of the slow set's excess over the median the GC pauses inside those calls account for.
        var excess = slow.Sum(p => Micros(p) - p50);
        var paused = slow.Sum(p => Math.Min(p.PauseInside.TotalMicroseconds, Micros(p) - p50));
        md.AppendLine();
        md.AppendLine(c, $"GC pauses inside the slow calls make up {paused / Math.Max(1, excess):0%} of their time over the median ({paused / slow.Length:N0} of {excess / slow.Length:N0} µs a call).");
        var withoutGc = probes.Select(p => Micros(p) - p.PauseInside.TotalMicroseconds).Order().ToArray();
        md.AppendLine(c, $"With each call's GC pause taken out, the p99 would be {withoutGc[(int)Math.Ceiling(0.99 * withoutGc.Length) - 1]:N0} µs.");
        md.AppendLine();
        md.AppendLine("| timed calls in flight when a call started | calls | share | p50 µs | p99 µs |");
        md.AppendLine("|---:|---:|---:|---:|---:|");
        foreach (var group in probes.GroupBy(p => Math.Min(p.ProbesInFlight, 4)).OrderBy(g => g.Key))
        {
            var times = group.Select(Micros).Order().ToArray();
            md.AppendLine(c, $"| {(group.Key == 4 ? "4 or more" : group.Key.ToString(c))} | {times.Length:N0} | {times.Length / (double)probes.Length:0.0%} | {times[(int)(0.5 * (times.Length - 1))]:N0} | {times[(int)Math.Ceiling(0.99 * times.Length) - 1]:N0} |");
        }

        return md.ToString();

        string Pct(List<GcPauseListener.Pause> list, double q)
        {
            if (list.Count == 0)
            {
                return "-";
            }

            var sorted = list.Select(p => p.Length.TotalMicroseconds).Order().ToArray();
            return sorted[Math.Max(0, (int)Math.Ceiling(q * sorted.Length) - 1)].ToString("N0", c);
        }
    }

    private static double Micros(Probe p) => Stopwatch.GetElapsedTime(p.Start, p.End).TotalMicroseconds;

    private static double LegMicros(long from, long to) => from == 0 || to == 0 ? double.NaN : Stopwatch.GetElapsedTime(from, to).TotalMicroseconds;

    private static bool Overlaps(Background[] background, int kind, Probe p)
    {
        // Background calls are short next to the phase: look back a second from the probe's end.
        var lookBack = p.Start - Stopwatch.Frequency;
        var at = Array.BinarySearch(background, new Background(0, lookBack, 0), StartOrder.Instance);
        for (var i = at < 0 ? ~at : at; i < background.Length && background[i].Start <= p.End; i++)
        {
            if (background[i].Kind == kind && background[i].End >= p.Start)
            {
                return true;
            }
        }

        return false;
    }

    private static void Row(StringBuilder md, string name, Probe[] all, Probe[] slow, Func<Probe, double> measure) =>
        md.AppendLine(CultureInfo.InvariantCulture, $"| {name} | {Mean(all, measure):N0} | {Mean(slow, measure):N0} |");

    private static void Share(StringBuilder md, string name, Probe[] all, Probe[] slow, Func<Probe, bool> test) =>
        md.AppendLine(CultureInfo.InvariantCulture, $"| {name} | {all.Count(test) / (double)all.Length:0.0%} | {slow.Count(test) / (double)slow.Length:0.0%} |");

    private static double Mean(Probe[] probes, Func<Probe, double> measure)
    {
        var values = probes.Select(measure).Where(v => !double.IsNaN(v)).ToArray();
        return values.Length == 0 ? double.NaN : values.Average();
    }

    private struct Probe
    {
        public long Id;
        public TimeSpan Late;
        public long Queue;
        public TimeSpan PauseBefore;
        public TimeSpan PauseInside;
        public int Gen0Before;
        public int Gen1Before;
        public int Gen0Inside;
        public int Gen1Inside;
        public (int Kinds, int Calls) InFlight;
        public int ProbesInFlight;
        public long Start;
        public long End;
    }

    private readonly record struct Background(int Kind, long Start, long End);

    private sealed class StartOrder : IComparer<Background>
    {
        public static readonly StartOrder Instance = new();

        public int Compare(Background x, Background y) => x.Start.CompareTo(y.Start);
    }
}
