using System.Diagnostics;
using RpcGen;
using RpcGen.Balancing;
using RpcGen.Testing;
using RpcGen.Transport.Message;
using RpcGen.Transport.Message.TestServer;

// Usage: dotnet run -c Release --project tests/RpcGen.Balancing.Bench -- [SECONDS] [CALLERS]
// Replicas are test server processes on 127.0.0.2, .3, .4 (they share this machine's cores, so the
// figures to read are ratios and the per-replica distribution, not a speed-up). Every scenario runs
// in this one process, one after the other, with the same callers and duration.
var seconds = args.Length > 0 ? int.Parse(args[0], System.Globalization.CultureInfo.InvariantCulture) : 10;
var callers = args.Length > 1 ? int.Parse(args[1], System.Globalization.CultureInfo.InvariantCulture) : 32;
var duration = TimeSpan.FromSeconds(seconds);
Console.WriteLine($"{callers} callers, {seconds} s per scenario, round-robin; retry (3 attempts) for the idempotent reads");

// ProcessId answers without a word; Read (idempotent, so retried) prints a line per call on the
// server, which costs it: compare reads with reads only.
var one = await RunAsync("1 replica, ProcessId", 1, reads: false, kill: false);
var three = await RunAsync("3 replicas, ProcessId", 3, reads: false, kill: false);
var reads = await RunAsync("3 replicas, Read", 3, reads: true, kill: false);
var killed = await RunAsync("3 replicas, Read, one killed at half time", 3, reads: true, kill: true);

Console.WriteLine();
Console.WriteLine($"calls/s, 3 replicas / 1: {three.CallsPerSecond / one.CallsPerSecond:0.00}x");
Console.WriteLine($"p99, one replica killed / none killed: {killed.P99.TotalMilliseconds / reads.P99.TotalMilliseconds:0.00}x");
return 0;

async Task<Result> RunAsync(string name, int replicas, bool reads, bool kill)
{
    var servers = new List<ChildServerProcess>();
    try
    {
        for (var i = 0; i < replicas; i++)
        {
            servers.Add(await ChildServerProcess.StartAsync("RpcGen.Transport.Message.TestServer", $"tcp://127.0.0.{i + 2}:0"));
        }

        await using var client = RpcBalancedClient.Create(
            new RpcStaticEndpointResolver("bench", [.. servers.Select(s => s.Address)]),
            new RpcBalancedClientOptions
            {
                Policy = RpcBalancingPolicy.RoundRobin,
                Retry = new RpcRetryPolicy { MaxAttempts = 3, InitialBackoff = TimeSpan.FromMilliseconds(5) },
                RetryBudget = new RpcRetryBudget(maxTokens: 100_000),
            });
        await client.WaitForReadyAsync(replicas);
        var service = client.GetService<IRestartService>();
        for (var i = 0; i < 2000; i++)
        {
            await service.ProcessIdAsync();
        }

        var byReplica = new System.Collections.Concurrent.ConcurrentDictionary<string, int>();
        var latencies = new List<double>[callers];
        var failures = 0;
        var stopwatch = Stopwatch.StartNew();
        var tasks = Enumerable.Range(0, callers).Select(async caller =>
        {
            await Task.Yield();
            var mine = latencies[caller] = new List<double>(100_000);
            while (stopwatch.Elapsed < duration)
            {
                var start = Stopwatch.GetTimestamp();
                try
                {
                    var replica = reads ? (await service.ReadAsync("k")).Split(':')[^1] : (await service.ProcessIdAsync()).ToString(System.Globalization.CultureInfo.InvariantCulture);
                    mine.Add(Stopwatch.GetElapsedTime(start).TotalMilliseconds);
                    byReplica.AddOrUpdate(replica, 1, (_, n) => n + 1);
                }
                catch (RpcException)
                {
                    Interlocked.Increment(ref failures);
                }
            }
        }).ToList();

        if (kill)
        {
            await Task.Delay(duration / 2);
            await servers[0].KillAsync();
        }

        await Task.WhenAll(tasks);
        var elapsed = stopwatch.Elapsed;
        var all = latencies.SelectMany(l => l).Order().ToArray();
        var result = new Result(all.Length / elapsed.TotalSeconds, TimeSpan.FromMilliseconds(Percentile(all, 0.50)), TimeSpan.FromMilliseconds(Percentile(all, 0.99)));
        var total = byReplica.Values.Sum();
        Console.WriteLine($"{name}: {result.CallsPerSecond:0} calls/s, p50 {result.P50.TotalMilliseconds:0.00} ms, p99 {result.P99.TotalMilliseconds:0.00} ms, failed {failures}; per replica: {string.Join(", ", byReplica.OrderBy(p => p.Key).Select(p => $"{100.0 * p.Value / total:0.0} %"))}");
        return result;
    }
    finally
    {
        foreach (var server in servers)
        {
            await server.DisposeAsync();
        }
    }
}

static double Percentile(double[] sorted, double p) => sorted.Length == 0 ? 0 : sorted[Math.Min(sorted.Length - 1, (int)(p * sorted.Length))];

internal sealed record Result(double CallsPerSecond, TimeSpan P50, TimeSpan P99);
