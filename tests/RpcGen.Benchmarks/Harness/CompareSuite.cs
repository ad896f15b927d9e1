using System.Diagnostics;

namespace RpcGen.Benchmarks.Harness;

/// <summary>
/// Runs the comparison matrix in this process: for each link and peer, start a server and a client,
/// check that echoes come back intact, then measure every workload. Client and server share the
/// process, so allocation figures are client plus server.
/// </summary>
public static class CompareSuite
{
    public static async Task<List<CellResult>> RunAsync(CompareOptions options, TextWriter log, IDictionary<string, string> peerNotes)
    {
        var results = new List<CellResult>();
        foreach (var link in options.Links)
        {
            foreach (var peer in options.Peers)
            {
                results.AddRange(await RunPeerAsync(peer, link, options, log, peerNotes).ConfigureAwait(false));
            }
        }

        return results;
    }

    private static async Task<List<CellResult>> RunPeerAsync(PeerKind peer, LinkKind link, CompareOptions options, TextWriter log, IDictionary<string, string> peerNotes)
    {
        var results = new List<CellResult>();
        PeerSession session;
        try
        {
            session = await PeerFactory.StartAsync(peer, link).WaitAsync(options.Timeout).ConfigureAwait(false);
            await session.VerifyAsync().WaitAsync(options.Timeout).ConfigureAwait(false);
        }
        catch (Exception ex) when (ex is not OutOfMemoryException)
        {
            var reason = "error: " + Describe(ex);
            log.WriteLine($"  {peer.Display(),-22} {link,-4} could not start: {reason}");
            foreach (var (workload, callers) in Cells(peer, options))
            {
                results.Add(new CellResult { Peer = peer, Link = link, Workload = workload, Callers = callers, Unavailable = reason });
            }

            return results;
        }

        if (session.ConfigurationNote is { } note)
        {
            peerNotes[peer.Display()] = note;
        }

        await using (session.ConfigureAwait(false))
        {
            foreach (var (workload, callers) in Cells(peer, options))
            {
                CellResult result;
                try
                {
                    result = workload switch
                    {
                        Workload.ServerStream => await MeasureRunsAsync(session, workload, options).ConfigureAwait(false),
                        Workload.Upload => await MeasureRunsAsync(session, workload, options).ConfigureAwait(false),
                        _ => await MeasureUnaryAsync(session, workload, callers, options).ConfigureAwait(false),
                    };
                }
                catch (Exception ex) when (ex is not OutOfMemoryException)
                {
                    result = new CellResult { Peer = peer, Link = link, Workload = workload, Callers = callers, Unavailable = "error: " + Describe(ex) };
                }

                log.WriteLine("  " + ReportWriter.FormatProgress(result));
                results.Add(result);
            }
        }

        return results;
    }

    /// <summary>The cells a peer takes part in: the coalesced floor only where coalescing can matter (many callers).</summary>
    public static IEnumerable<(Workload Workload, int Callers)> Cells(PeerKind peer, CompareOptions options)
    {
        foreach (var workload in options.Workloads)
        {
            if (!workload.IsUnary())
            {
                if (peer != PeerKind.RawCoalesced)
                {
                    yield return (workload, 1);
                }

                continue;
            }

            foreach (var callers in options.CallerCounts)
            {
                if (peer == PeerKind.RawCoalesced && callers == 1)
                {
                    continue;
                }

                yield return (workload, callers);
            }
        }
    }

    public static async Task<CellResult> MeasureUnaryAsync(PeerSession session, Workload workload, int callers, CompareOptions options)
    {
        var driver = session.CreateUnaryDriver(workload, out var reason);
        if (driver is null)
        {
            return new CellResult { Peer = session.Peer, Link = session.Link, Workload = workload, Callers = callers, Unavailable = reason ?? PeerSession.NotImplementedYet };
        }

        var recorders = new CallerRecorder[callers];
        var perCaller = Math.Max(16, options.MaxCallsPerCell / callers);
        for (var i = 0; i < callers; i++)
        {
            recorders[i] = new CallerRecorder(perCaller);
        }

        var tasks = new Task[callers];
        await TieredJit.WarmUpAsync(driver, recorders, tasks, options.Warmup, options.JitQuietPeriod, options.MaxWarmup, options.Timeout).ConfigureAwait(false);
        Settle();

        var allocatedBefore = GC.GetTotalAllocatedBytes(precise: true);
        var started = Stopwatch.GetTimestamp();
        await RunPhaseAsync(driver, recorders, tasks, options.Measure, options.Timeout).ConfigureAwait(false);
        var elapsed = Stopwatch.GetElapsedTime(started);
        var allocated = GC.GetTotalAllocatedBytes(precise: true) - allocatedBefore;

        var total = recorders.Sum(r => r.Count);
        var latencies = new int[total];
        var offset = 0;
        foreach (var recorder in recorders)
        {
            recorder.Latencies.CopyTo(latencies.AsSpan(offset));
            offset += recorder.Count;
        }

        Array.Sort(latencies);
        return new CellResult
        {
            Peer = session.Peer,
            Link = session.Link,
            Workload = workload,
            Callers = callers,
            Operations = total,
            Samples = total,
            Seconds = elapsed.TotalSeconds,
            P50Microseconds = TicksToMicroseconds(Percentile(latencies, 0.50)),
            P99Microseconds = TicksToMicroseconds(Percentile(latencies, 0.99)),
            OperationsPerSecond = total / elapsed.TotalSeconds,
            AllocatedBytesPerOperation = total == 0 ? 0 : (double)allocated / total,
        };
    }

    public static async Task<CellResult> MeasureRunsAsync(PeerSession session, Workload workload, CompareOptions options)
    {
        var isStream = workload == Workload.ServerStream;
        string? reason;
        var run = isStream
            ? session.CreateServerStream(options.StreamItems, out reason)
            : session.CreateUpload(options.UploadBytes, options.UploadChunkBytes, out reason);
        if (run is null)
        {
            return new CellResult { Peer = session.Peer, Link = session.Link, Workload = workload, Callers = 1, Unavailable = reason ?? PeerSession.NotImplementedYet };
        }

        // Warm up on a tenth of the work so the measured runs see jitted, tiered code.
        var warmup = isStream
            ? session.CreateServerStream(Math.Max(1, options.StreamItems / 10), out _)!
            : session.CreateUpload(Math.Max(1, options.UploadBytes / 10), options.UploadChunkBytes, out _)!;
        await warmup().WaitAsync(options.Timeout).ConfigureAwait(false);
        Settle();

        var expected = isStream ? options.StreamItems : options.UploadBytes;
        var operationsPerRun = isStream ? options.StreamItems : (options.UploadBytes + options.UploadChunkBytes - 1) / options.UploadChunkBytes;
        var maxRuns = isStream ? options.StreamRuns : options.UploadRuns;
        var durations = new List<long>(maxRuns);
        var allocatedBefore = GC.GetTotalAllocatedBytes(precise: true);
        var started = Stopwatch.GetTimestamp();
        while (durations.Count < maxRuns && (durations.Count == 0 || Stopwatch.GetElapsedTime(started) < options.StreamBudget))
        {
            var runStarted = Stopwatch.GetTimestamp();
            var count = await run().WaitAsync(options.Timeout).ConfigureAwait(false);
            durations.Add(Stopwatch.GetTimestamp() - runStarted);
            EchoCheck.Count(expected, count, session.Peer.Display(), isStream ? "stream items" : "uploaded bytes");
        }

        var elapsed = Stopwatch.GetElapsedTime(started);
        var allocated = GC.GetTotalAllocatedBytes(precise: true) - allocatedBefore;
        // Whole runs can exceed int ticks (2.1 s at 1 GHz), so their percentiles are taken in microseconds.
        var sorted = durations.Select(d => (int)Math.Min(d * 1_000_000 / Stopwatch.Frequency, int.MaxValue)).Order().ToArray();
        var operations = operationsPerRun * durations.Count;
        return new CellResult
        {
            Peer = session.Peer,
            Link = session.Link,
            Workload = workload,
            Callers = 1,
            Operations = operations,
            Samples = durations.Count,
            Seconds = elapsed.TotalSeconds,
            P50Microseconds = Percentile(sorted, 0.50),
            P99Microseconds = Percentile(sorted, 0.99),
            OperationsPerSecond = operations / elapsed.TotalSeconds,
            BytesPerSecond = isStream ? 0 : options.UploadBytes * durations.Count / elapsed.TotalSeconds,
            AllocatedBytesPerOperation = (double)allocated / operations,
        };
    }

    public static async Task RunPhaseAsync(CallerDriver driver, CallerRecorder[] recorders, Task[] tasks, TimeSpan duration, TimeSpan timeout)
    {
        var deadline = Stopwatch.GetTimestamp() + (long)(duration.TotalSeconds * Stopwatch.Frequency);
        for (var i = 0; i < recorders.Length; i++)
        {
            recorders[i].Begin(deadline);
        }

        for (var i = 0; i < recorders.Length; i++)
        {
            tasks[i] = driver(recorders[i]);
        }

        await Task.WhenAll(tasks).WaitAsync(duration + timeout).ConfigureAwait(false);
    }

    /// <summary>Collects garbage left by the previous phase so that it is not charged to the next one.</summary>
    private static void Settle()
    {
        GC.Collect();
        GC.WaitForPendingFinalizers();
        GC.Collect();
    }

    /// <summary>Nearest-rank percentile of sorted values.</summary>
    public static int Percentile(int[] sorted, double fraction)
    {
        if (sorted.Length == 0)
        {
            return 0;
        }

        var rank = (int)Math.Ceiling(fraction * sorted.Length);
        return sorted[Math.Clamp(rank - 1, 0, sorted.Length - 1)];
    }

    private static double TicksToMicroseconds(int ticks) => ticks * 1_000_000.0 / Stopwatch.Frequency;

    private static string Describe(Exception ex)
    {
        var inner = ex is AggregateException { InnerException: { } first } ? first : ex;
        var message = inner.Message.ReplaceLineEndings(" ");
        return inner.GetType().Name + ": " + (message.Length > 160 ? message[..160] + "…" : message);
    }
}
