using System.Diagnostics;

namespace RpcGen.Soak;

/// <summary>
/// Runs the soak's phases in order against one in-process server: unloaded latency, then the
/// baseline, then 10,000 calls on one connection, 200 connections × 50 calls, the mixed phase for
/// the time left, and finally the resources again once every extra connection is closed.
/// </summary>
public static class SoakRunner
{
    private const int WarmUpCalls = 500;

    private static readonly TimeSpan Settle = TimeSpan.FromSeconds(30);

    private static readonly TimeSpan MinimumMixedTime = TimeSpan.FromSeconds(10);

    public static async Task<SoakResult> RunAsync(SoakOptions options, TextWriter progress)
    {
        var started = Stopwatch.StartNew();
        var result = new SoakResult(options);
        var tls = options.Transport == "tls" ? new SoakTls() : null;
        await using var host = await SoakServerHost.StartAsync(SoakServerHost.NewAddress(options.Transport), options.ConcurrentCalls, options.Connections + options.MixedWorkers + 8, tls);
        var primary = await host.ConnectAsync();
        try
        {
            var proxy = primary.GetService<ISoakService>();
            var unloaded = new LatencyRecorder();
            var loaded = new LatencyRecorder();
            var calls = new MixedCalls(host.Service, loaded);

            progress.WriteLine($"soak: {options.Transport} server at {host.Address}; measuring unloaded latency");
            var warmUp = result.Phase("warm-up and unloaded latency");
            var sequential = new Stopwatch();
            for (var i = 0; i < WarmUpCalls + options.UnloadedSamples; i++)
            {
                var recorder = i < WarmUpCalls ? new LatencyRecorder() : unloaded;
                if (i == WarmUpCalls)
                {
                    sequential.Start();
                }

                await warmUp.TrackAsync("unary", id => recorder.TimeAsync(() => calls.EchoAsync(proxy, id, $"unary {id}")));
            }

            result.UnloadedP99Micros = unloaded.Percentile(99);
            result.UnloadedCallsPerSecond = options.UnloadedSamples / sequential.Elapsed.TotalSeconds;

            // Every call kind, codec and reconnect once before the baseline, so the libraries the
            // runtime maps on first use (compression codecs, stream stubs) do not count as growth.
            await MixedAsync(warmUp, host, primary, calls, options, TimeSpan.Zero, new SoakResult(options), firstRoundOnly: true);
            await host.Pulse.WaitUntilAsync(() => host.Server.ConnectionCount <= 1 && host.Service.Hanging == 0, Settle);
            result.Baseline = ResourceSnapshot.Take();

            progress.WriteLine($"soak: {options.ConcurrentCalls:N0} concurrent calls on one connection");
            await TimedAsync(result, $"{options.ConcurrentCalls:N0} calls in flight on one connection", ledger =>
                BarrierAsync(ledger, host, [proxy], options.ConcurrentCalls, "one connection"));

            progress.WriteLine($"soak: {options.Connections} connections × {options.CallsPerConnection} calls");
            await TimedAsync(result, $"{options.Connections} connections × {options.CallsPerConnection} calls in flight", async ledger =>
            {
                var clients = await Task.WhenAll(Enumerable.Range(0, options.Connections).Select(_ => host.ConnectAsync()));
                try
                {
                    await BarrierAsync(ledger, host, clients.Select(c => c.GetService<ISoakService>()).ToArray(), options.CallsPerConnection, "many connections");
                }
                finally
                {
                    await Task.WhenAll(clients.Select(c => c.DisposeAsync().AsTask()));
                }
            });

            // On a loaded machine the first phases can eat the whole duration; the mixed phase (and its reconnects) still runs.
            var mixedTime = options.Duration - started.Elapsed - options.PacedDuration;
            mixedTime = mixedTime > MinimumMixedTime ? mixedTime : MinimumMixedTime;
            progress.WriteLine($"soak: mixed phase for {mixedTime.TotalSeconds:0} s");
            await TimedAsync(result, "mixed", ledger => MixedAsync(ledger, host, primary, calls, options, mixedTime, result));
            result.LoadedP99Micros = loaded.Percentile(99);
            result.LoadedSamples = loaded.Count;

            // Latency without queueing: a fixed rate well below what the server can take, so a call
            // rarely waits behind another; the rates come from this run's own measurements.
            var mixedIssued = result.Phases.Single(p => p.Name == "mixed").Ledger.Total(k => k.Issued);
            result.PacedProbeRate = Math.Max(1, options.PacedProbeFraction * result.UnloadedCallsPerSecond);
            result.PacedBackgroundRate = Math.Max(1, options.PacedBackgroundFraction * mixedIssued / result.PhaseTimes["mixed"].TotalSeconds);
            progress.WriteLine($"soak: paced latency for {options.PacedDuration.TotalSeconds:0} s: {result.PacedProbeRate:0} unary calls/s beside {result.PacedBackgroundRate:0} mixed calls/s");
            var paced = new LatencyRecorder();
            if (options.Profile)
            {
                result.Profile = new TailProfile(
                    (long)(result.PacedProbeRate * options.PacedDuration.TotalSeconds),
                    (long)(result.PacedBackgroundRate * options.PacedDuration.TotalSeconds));
                await result.Profile.MeasureAllocationsAsync(proxy, host.Service, calls, options.UnloadedSamples);
                host.Service.EchoObserver = result.Profile.HandlerRan;
            }

            await TimedAsync(result, "paced", ledger => PacedAsync(ledger, primary, calls, paced, options, result));
            host.Service.EchoObserver = null;
            result.PacedP99Micros = paced.Percentile(99);
            result.PacedSamples = paced.Count;

            progress.WriteLine("soak: waiting for connections and handlers to wind down");
            result.SettledConnections = await host.Pulse.WaitUntilAsync(() => host.Server.ConnectionCount <= 1, Settle);
            result.SettledHandlers = await host.Pulse.WaitUntilAsync(() => host.Service.Hanging == 0 && host.Server.InflightCalls == 0, Settle);
            result.ServerConnectionsAtEnd = host.Server.ConnectionCount;
            result.HangingAtEnd = host.Service.Hanging;
            result.RunTwice = host.Service.RunTwice.Count;
            result.End = ResourceSnapshot.Take();
        }
        finally
        {
            await primary.DisposeAsync();
        }

        result.Elapsed = started.Elapsed;
        return result;
    }

    private static async Task TimedAsync(SoakResult result, string name, Func<CallLedger, Task> phase)
    {
        var ledger = result.Phase(name);
        var watch = Stopwatch.StartNew();
        await phase(ledger);
        result.PhaseTimes[name] = watch.Elapsed;
    }

    /// <summary>
    /// Puts <paramref name="perProxy"/> barrier calls on each proxy at once: the server answers none
    /// until all of them arrived, which proves they were all in flight together.
    /// </summary>
    private static Task BarrierAsync(CallLedger ledger, SoakServerHost host, ISoakService[] proxies, int perProxy, string phase)
    {
        var parties = proxies.Length * perProxy;
        var barrier = $"{phase} {Guid.NewGuid():N}";
        return Task.WhenAll(proxies.SelectMany(proxy => Enumerable.Range(0, perProxy).Select(_ =>
            ledger.TrackAsync("barrier", async id =>
            {
                var answered = await proxy.BarrierAsync(id, barrier, parties);
                host.Service.Forget(id);
                return answered == id ? CallOutcome.Ok : CallOutcome.CrossTalk;
            }))));
    }

    /// <summary>
    /// The paced phase on the primary connection: the probe (unary echoes, timed) and the background
    /// (the mixed kinds in turn), each started on its own fixed schedule, checked like every other call.
    /// </summary>
    private static async Task PacedAsync(CallLedger ledger, RpcClient primary, MixedCalls calls, LatencyRecorder paced, SoakOptions options, SoakResult result)
    {
        var proxy = primary.GetService<ISoakService>();
        var profile = result.Profile;
        profile?.Start();
        var probe = PacedLoad.RunAsync(result.PacedProbeRate, options.PacedDuration, (n, late) =>
            ledger.TrackAsync("paced unary (timed)", id => profile is null
                ? paced.TimeAsync(() => calls.EchoAsync(proxy, id, $"paced {id}"))
                : profile.ProbeAsync(n, late, id, () => paced.TimeAsync(() => calls.EchoAsync(proxy, id, $"paced {id}")))));
        var background = PacedLoad.RunAsync(result.PacedBackgroundRate, options.PacedDuration, n =>
        {
            var k = (int)(n % MixedCalls.Kinds.Length);
            var kind = MixedCalls.Kinds[k];
            return ledger.TrackAsync("paced background: " + kind, id => profile is null
                ? calls.RunAsync(kind, proxy, id)
                : profile.BackgroundAsync(n, k, () => calls.RunAsync(kind, proxy, id)));
        });
        var runs = await Task.WhenAll(probe, background);
        profile?.Stop();
        result.PacedWorstLateStart = runs.Max(r => r.WorstLateStart);
    }

    /// <summary>
    /// The mixed workers and the reconnect cycles for <paramref name="time"/>, or, with
    /// <paramref name="firstRoundOnly"/>, each kind once per client and two reconnect cycles.
    /// </summary>
    private static async Task MixedAsync(CallLedger ledger, SoakServerHost host, RpcClient primary, MixedCalls calls, SoakOptions options, TimeSpan time, SoakResult result, bool firstRoundOnly = false)
    {
        // The plain primary and one client per codec, so compressed and uncompressed frames share the
        // server. The primary works here too: left idle past RpcLimits.IdleTimeout (5 min), the server
        // would close it and the end would miss a socket the baseline has.
        var codecs = new[] { RpcGen.Compression.RpcCompression.Lz4, RpcGen.Compression.RpcCompression.Zstd, RpcGen.Compression.RpcCompression.Snappy };
        var compressed = await Task.WhenAll(codecs.Select(codec => host.ConnectAsync(new RpcClientOptions { Compression = codec })));
        var clients = compressed.Prepend(primary).ToArray();
        await using var reconnects = new ReconnectCycles(options.Transport, host, ledger, calls);
        try
        {
            using var stop = new CancellationTokenSource(time);
            var workers = Enumerable.Range(0, firstRoundOnly ? clients.Length : options.MixedWorkers).Select(worker => Task.Run(async () =>
            {
                var proxy = clients[worker % clients.Length].GetService<ISoakService>();
                for (var n = worker; firstRoundOnly ? n < worker + MixedCalls.Kinds.Length : !stop.IsCancellationRequested; n++)
                {
                    var kind = MixedCalls.Kinds[n % MixedCalls.Kinds.Length];
                    await ledger.TrackAsync(kind, id => calls.RunAsync(kind, proxy, id));
                }
            }));
            await Task.WhenAll(workers.Append(reconnects.RunAsync(firstRoundOnly ? CancellationToken.None : stop.Token, firstRoundOnly ? 2 : long.MaxValue)));
            result.ReconnectCycles = reconnects.Cycles;
        }
        finally
        {
            await Task.WhenAll(compressed.Select(c => c.DisposeAsync().AsTask()));
        }
    }
}
