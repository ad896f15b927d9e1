using System.Net;
using Microsoft.Extensions.DependencyInjection;
using RpcGen.Testing;
using RpcGen.Transport.Message;
using RpcGen.Transport.Message.TestServer;

namespace RpcGen.Balancing.Tests;

/// <summary>
/// Replicas as real processes, each in its own network namespace on its own address, found through a
/// real DNS server's SRV records: what a Kubernetes headless service gives a client, on one machine.
/// </summary>
public sealed class MultiHostTests
{
    private static readonly TimeSpan Timeout = TimeSpan.FromSeconds(120);
    private const int DnsHost = 250;

    [Fact]
    public async Task Calls_spread_over_replicas_found_through_dns_srv_records()
    {
        await using var sandbox = await NetworkSandbox.CreateAsync();
        var replicas = await StartReplicasAsync(sandbox, 1, 2, 3);
        await using var dns = await Dnsmasq.StartAsync(sandbox, DnsHost, [.. replicas.Keys.Select(sandbox.AddressOf)]);
        await using var client = CreateClient(dns, RpcBalancingPolicy.RoundRobin);
        await client.WaitForReadyAsync(3).WaitAsync(Timeout);
        Assert.Equal([.. replicas.Keys.Select(i => $"tcp://{sandbox.AddressOf(i)}:5000")], client.Endpoints.Order());
        var service = client.GetService<IRestartService>();

        var byProcess = new Dictionary<int, int>();
        for (var i = 0; i < 300; i++)
        {
            var pid = await service.ProcessIdAsync().WaitAsync(Timeout);
            byProcess[pid] = byProcess.GetValueOrDefault(pid) + 1;
        }

        Assert.Equal(replicas.Values.Select(p => p.Id).Order(), byProcess.Keys.Order());
        Assert.All(byProcess.Values, count => Assert.InRange(count, 90, 110));
    }

    [Fact]
    public async Task Least_outstanding_avoids_a_replica_that_does_not_answer()
    {
        await using var sandbox = await NetworkSandbox.CreateAsync();
        var replicas = await StartReplicasAsync(sandbox, 1, 2);
        await sandbox.AddHostAsync(3);
        var stuck = await sandbox.StartServerAsync(3, hang: true);
        await using var dns = await Dnsmasq.StartAsync(sandbox, DnsHost, [sandbox.AddressOf(1), sandbox.AddressOf(2), sandbox.AddressOf(3)]);
        await using var client = CreateClient(dns, RpcBalancingPolicy.LeastOutstanding);
        await client.WaitForReadyAsync(3).WaitAsync(Timeout);
        var service = client.GetService<IRestartService>();

        // Reads park on the stuck replica. Calls go one at a time, each waiting until it answered
        // or the stuck replica took it: once it holds one, it never wins a comparison again.
        var firstParked = stuck.WaitForLineAsync("started read", Timeout);
        var parked = new List<Task<string>>();
        Task<string>? secondParked = null;
        for (var i = 0; i < 60; i++)
        {
            var call = service.ReadAsync($"k{i}");
            await Task.WhenAny(call, secondParked ?? firstParked).WaitAsync(Timeout);
            if (!call.IsCompleted)
            {
                Assert.Null(secondParked);
                parked.Add(call);
                secondParked = stuck.WaitForLineAsync("started read", Timeout);
            }
        }

        Assert.InRange(parked.Count, 0, 1);
        Assert.False(secondParked?.IsCompleted ?? false);
    }

    [Fact]
    public async Task A_replica_killed_mid_load_loses_no_call_that_had_not_reached_it_and_its_idempotent_calls_are_retried()
    {
        await using var sandbox = await NetworkSandbox.CreateAsync();
        var replicas = await StartReplicasAsync(sandbox, 1, 2);
        await sandbox.AddHostAsync(3);
        var doomed = await sandbox.StartServerAsync(3, hang: true);
        await using var dns = await Dnsmasq.StartAsync(sandbox, DnsHost, [sandbox.AddressOf(1), sandbox.AddressOf(2), sandbox.AddressOf(3)]);
        await using var client = CreateClient(dns, RpcBalancingPolicy.RoundRobin, new RpcRetryPolicy { MaxAttempts = 3, InitialBackoff = TimeSpan.FromMilliseconds(10) });
        await client.WaitForReadyAsync(3).WaitAsync(Timeout);
        var service = client.GetService<IRestartService>();

        // Round-robin over three ready replicas gives the doomed one every third call, exactly:
        // 20 of these 60, half of them reads (idempotent), half submits (not).
        var calls = Enumerable.Range(0, 60)
            .Select(i => (Id: i, Read: i % 2 == 0, Task: i % 2 == 0 ? service.ReadAsync($"k{i}") : service.SubmitAsync($"k{i}")))
            .ToList();
        var reached = new List<string>();
        for (var i = 0; i < 20; i++)
        {
            reached.Add((await doomed.WaitForLineAsync("started ", Timeout))["started ".Length..]);
        }

        await doomed.KillAsync();
        await Task.WhenAll(calls.Select(call => call.Task)).ContinueWith(_ => { }).WaitAsync(Timeout);

        foreach (var (id, read, task) in calls)
        {
            if (read)
            {
                // Idempotent: those that reached the killed replica were retried elsewhere.
                Assert.True(task.IsCompletedSuccessfully, $"read k{id}: {task.Exception?.InnerException?.Message}");
            }
            else if (reached.Contains($"submit k{id}"))
            {
                // Not idempotent and it had reached the killed replica: it may have run, so it fails.
                var failure = Assert.IsType<RpcException>(task.Exception?.InnerException);
                Assert.Equal(RpcStatusCode.Disconnected, failure.StatusCode);
            }
            else
            {
                Assert.True(task.IsCompletedSuccessfully, $"submit k{id} never reached the killed replica, yet: {task.Exception?.InnerException?.Message}");
            }
        }

        // And the load goes on, on the replicas left.
        var after = await Task.WhenAll(Enumerable.Range(0, 30).Select(i => service.SubmitAsync($"after{i}"))).WaitAsync(Timeout);
        Assert.All(after, answer => Assert.False(answer.EndsWith($":{doomed.Id}", StringComparison.Ordinal), answer));
        Assert.Equal(10, reached.Count(line => line.StartsWith("submit", StringComparison.Ordinal)));
        GC.KeepAlive(replicas);
    }

    [Fact]
    public async Task A_replica_added_to_dns_gets_traffic_after_re_resolution()
    {
        await using var sandbox = await NetworkSandbox.CreateAsync();
        var replicas = await StartReplicasAsync(sandbox, 1, 2);
        await using var dns = await Dnsmasq.StartAsync(sandbox, DnsHost, [sandbox.AddressOf(1), sandbox.AddressOf(2)]);
        await using var client = CreateClient(dns, RpcBalancingPolicy.RoundRobin, resolveInterval: TimeSpan.FromMilliseconds(200));
        await client.WaitForReadyAsync(2).WaitAsync(Timeout);
        var service = client.GetService<IRestartService>();

        var added = (await StartReplicasAsync(sandbox, 3))[3];
        await dns.PublishAsync([sandbox.AddressOf(1), sandbox.AddressOf(2), sandbox.AddressOf(3)]);

        // Each turn is a real call; the new replica answers one once the client re-resolved.
        using var deadline = new CancellationTokenSource(Timeout);
        while (await service.ProcessIdAsync().WaitAsync(Timeout) != added.Id)
        {
            deadline.Token.ThrowIfCancellationRequested();
        }

        Assert.Contains($"tcp://{sandbox.AddressOf(3)}:5000", client.Endpoints);
        GC.KeepAlive(replicas);
    }

    [Fact]
    public async Task A_rolling_restart_with_drain_fails_no_call()
    {
        await using var sandbox = await NetworkSandbox.CreateAsync();
        var replicas = await StartReplicasAsync(sandbox, 1, 2, 3);
        await using var dns = await Dnsmasq.StartAsync(sandbox, DnsHost, [.. replicas.Keys.Select(sandbox.AddressOf)]);
        await using var client = CreateClient(dns, RpcBalancingPolicy.RoundRobin);
        await client.WaitForReadyAsync(3).WaitAsync(Timeout);
        var service = client.GetService<IRestartService>();

        // Load: four callers making non-idempotent calls back to back until the restart is done.
        var load = new CallLoad(4, (caller, i) => service.SubmitAsync($"c{caller}-{i}"));

        // One replica at a time: stop it gracefully (it drains), start its successor on the same
        // address, and wait until the client is connected to it again.
        foreach (var index in replicas.Keys.ToList())
        {
            await replicas[index].StopGracefullyAsync();
            replicas[index] = await sandbox.StartServerAsync(index);
            await client.WaitForReadyAsync(3).WaitAsync(Timeout);
        }

        await service.SubmitAsync("last").WaitAsync(Timeout);
        Assert.Empty(await load.StopAsync(Timeout));
        Assert.True(load.Completed > 0);
    }

    private static async Task<Dictionary<int, ChildServerProcess>> StartReplicasAsync(NetworkSandbox sandbox, params int[] hosts)
    {
        var replicas = new Dictionary<int, ChildServerProcess>();
        foreach (var host in hosts)
        {
            await sandbox.AddHostAsync(host);
            replicas[host] = await sandbox.StartServerAsync(host);
        }

        return replicas;
    }

    private static RpcBalancedClient CreateClient(Dnsmasq dns, RpcBalancingPolicy policy, RpcRetryPolicy? retry = null, TimeSpan? resolveInterval = null)
    {
        var services = new ServiceCollection()
            .AddLogging()
            .AddServiceDiscoveryCore()
            .AddRpcDnsSrvServiceEndpointProvider(options =>
            {
                options.NameServer = new IPEndPoint(dns.Address, 53);
                options.QuerySuffix = "test";
            })
            .BuildServiceProvider();
        return RpcBalancedClient.Create(new RpcServiceDiscoveryResolver(services, "_rpc.catalog"), new RpcBalancedClientOptions
        {
            Policy = policy,
            Retry = retry,
            RetryBudget = new RpcRetryBudget(maxTokens: 1000),
            ResolveInterval = resolveInterval ?? TimeSpan.FromSeconds(30),
            Client = new RpcClientOptions { Reconnect = new RpcReconnectPolicy { InitialBackoff = TimeSpan.FromMilliseconds(50), MaxBackoff = TimeSpan.FromMilliseconds(500) } },
        });
    }
}
