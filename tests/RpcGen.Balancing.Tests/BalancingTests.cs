using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using RpcGen.Testing;
using RpcGen.Transport.Message;

namespace RpcGen.Balancing.Tests;

/// <summary>Balancers over several in-process servers on distinct loopback addresses.</summary>
public sealed class BalancingTests
{
    private static readonly TimeSpan Timeout = ReplicaSet.Timeout;

    [Fact]
    public async Task Round_robin_spreads_calls_evenly()
    {
        await using var replicas = await ReplicaSet.StartAsync(3);
        await using var client = await replicas.ConnectAsync(new() { Policy = RpcBalancingPolicy.RoundRobin });
        var service = client.GetService<IReplicaService>();

        for (var i = 0; i < 300; i++)
        {
            await service.WorkAsync(i).WaitAsync(Timeout);
        }

        // Sequential calls over three ready endpoints take turns exactly.
        Assert.All(replicas.Replicas, replica => Assert.Equal(100, replica.Calls));
    }

    [Fact]
    public async Task Round_robin_spreads_concurrent_calls_within_tolerance()
    {
        await using var replicas = await ReplicaSet.StartAsync(3);
        await using var client = await replicas.ConnectAsync(new() { Policy = RpcBalancingPolicy.RoundRobin });
        var service = client.GetService<IReplicaService>();

        await Task.WhenAll(Enumerable.Range(0, 600).Select(i => service.WorkAsync(i))).WaitAsync(Timeout);

        Assert.All(replicas.Replicas, replica => Assert.InRange(replica.Calls, 180, 220));
    }

    [Fact]
    public async Task Round_robin_shares_a_stopped_endpoints_turns_evenly_among_the_others()
    {
        await using var replicas = await ReplicaSet.StartAsync(3);
        await using var client = await replicas.ConnectAsync(new() { Policy = RpcBalancingPolicy.RoundRobin });
        var service = client.GetService<IReplicaService>();
        var dropped = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        client.EndpointStateChanged += (address, state) =>
        {
            if (address == replicas.Addresses[0] && state != RpcConnectionState.Ready)
            {
                dropped.TrySetResult();
            }
        };
        await replicas.Servers[0].StopAsync().WaitAsync(Timeout);
        await dropped.Task.WaitAsync(Timeout);

        for (var i = 0; i < 100; i++)
        {
            await service.WorkAsync(i).WaitAsync(Timeout);
        }

        // Not two thirds to the endpoint after the stopped one: half each.
        Assert.Equal(50, replicas[1].Calls);
        Assert.Equal(50, replicas[2].Calls);
    }

    [Fact]
    public async Task Pick_first_sends_every_call_to_the_first_endpoint_then_fails_over()
    {
        await using var replicas = await ReplicaSet.StartAsync(3);
        await using var client = await replicas.ConnectAsync(new() { Policy = RpcBalancingPolicy.PickFirst });
        var service = client.GetService<IReplicaService>();

        for (var i = 0; i < 20; i++)
        {
            Assert.Equal("r0", await service.WorkAsync(i).WaitAsync(Timeout));
        }

        await replicas.Servers[0].StopAsync().WaitAsync(Timeout);
        for (var i = 0; i < 20; i++)
        {
            Assert.Equal("r1", await service.WorkAsync(i).WaitAsync(Timeout));
        }

        Assert.Equal(0, replicas[2].Calls);
    }

    [Fact]
    public async Task Least_outstanding_avoids_a_slow_replica()
    {
        await using var replicas = await ReplicaSet.StartAsync(3);
        await using var client = await replicas.ConnectAsync(new() { Policy = RpcBalancingPolicy.LeastOutstanding });
        var service = client.GetService<IReplicaService>();
        var slow = replicas[0];
        slow.Hold();

        // Each call either completes (a fast replica) or is parked on the slow one; either way the
        // next starts only then, so the fast replicas have nothing in flight when it is picked.
        var parked = new List<Task<string>>();
        for (var i = 0; i < 90; i++)
        {
            var call = service.WorkAsync(i);
            var arrivedOnSlow = slow.Arrivals.Reader.WaitToReadAsync().AsTask();
            await Task.WhenAny(call, arrivedOnSlow).WaitAsync(Timeout);
            if (!call.IsCompleted)
            {
                await arrivedOnSlow;
                slow.Arrivals.Reader.TryRead(out _);
                parked.Add(call);
            }
        }

        // Once the slow replica holds a call, it loses every comparison with an idle fast one.
        Assert.InRange(slow.Calls, 0, 1);
        Assert.Equal(90 - slow.Calls, replicas[1].Calls + replicas[2].Calls);
        slow.Release();
        await Task.WhenAll(parked).WaitAsync(Timeout);
    }

    [Fact]
    public async Task Round_robin_keeps_sending_to_a_slow_replica_which_least_outstanding_avoids()
    {
        // The contrast that makes the previous test meaningful: round-robin gives the slow replica its turn.
        await using var replicas = await ReplicaSet.StartAsync(3);
        await using var client = await replicas.ConnectAsync(new() { Policy = RpcBalancingPolicy.RoundRobin });
        var service = client.GetService<IReplicaService>();
        replicas[0].Hold();

        var calls = Enumerable.Range(0, 30).Select(i => service.WorkAsync(i)).ToList();
        for (var i = 0; i < 10; i++)
        {
            await replicas[0].Arrivals.Reader.ReadAsync().AsTask().WaitAsync(Timeout);
        }

        replicas[0].Release();
        await Task.WhenAll(calls).WaitAsync(Timeout);
        Assert.Equal(10, replicas[0].Calls);
    }

    [Fact]
    public async Task Calls_move_on_when_an_endpoint_process_is_killed()
    {
        await using var inProcess = await ReplicaSet.StartAsync(2);
        await using var child = await ChildServerProcess.StartAsync("RpcGen.Transport.Message.TestServer", "tcp://127.0.0.9:0");
        await using var client = RpcBalancedClient.Create(
            new RpcStaticEndpointResolver("mixed", [child.Address, .. inProcess.Addresses]),
            new() { Policy = RpcBalancingPolicy.PickFirst });
        await client.WaitForReadyAsync(3).WaitAsync(Timeout);
        var restart = client.GetService<RpcGen.Transport.Message.TestServer.IRestartService>();
        Assert.Equal(child.Id, await restart.ProcessIdAsync().WaitAsync(Timeout));

        var dropped = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        client.EndpointStateChanged += (address, state) =>
        {
            if (address == child.Address && state != RpcConnectionState.Ready)
            {
                dropped.TrySetResult();
            }
        };
        await child.KillAsync();

        // Once the client saw the connection drop (a call written before that may have reached the
        // dead socket, and fails), the killed endpoint is out of the rotation: calls reach the next.
        await dropped.Task.WaitAsync(Timeout);
        // (Its contract differs, so the in-process replica answers Unimplemented: proof the call moved.)
        var moved = await Assert.ThrowsAsync<RpcException>(() => restart.ProcessIdAsync().WaitAsync(Timeout));
        Assert.Equal(RpcStatusCode.Unimplemented, moved.StatusCode);
        Assert.DoesNotContain(child.Address, client.ReadyEndpoints);
    }

    [Fact]
    public async Task Calls_wait_for_ready_until_an_endpoint_comes_up()
    {
        var listener = new System.Net.Sockets.TcpListener(System.Net.IPAddress.Parse("127.0.0.4"), 0);
        listener.Start();
        var port = ((System.Net.IPEndPoint)listener.LocalEndpoint).Port;
        listener.Stop();
        var address = $"tcp://127.0.0.4:{port}";
        var options = new RpcBalancedClientOptions
        {
            Client = new RpcClientOptions { Reconnect = new RpcReconnectPolicy { InitialBackoff = TimeSpan.FromMilliseconds(20), MaxBackoff = TimeSpan.FromMilliseconds(200) } },
        };
        await using var client = RpcBalancedClient.Create(new RpcStaticEndpointResolver("late", address), options);
        var service = client.GetService<IReplicaService>();

        Task<string> waiting;
        using (RpcWaitForReady.Set(true))
        {
            waiting = service.WorkAsync(1);
        }

        // Without wait-for-ready, a call waits while the endpoint is still connecting, and fails,
        // unsent, once its first connection attempt failed.
        var failed = await Assert.ThrowsAsync<RpcException>(() => service.WorkAsync(2).WaitAsync(Timeout));
        Assert.Equal(RpcStatusCode.Disconnected, failed.StatusCode);
        Assert.True(failed.NotProcessed);
        Assert.False(waiting.IsCompleted);

        var replica = new Replica("late");
        await using var server = new RpcServer();
        server.AddService<IReplicaService>(replica);
        await server.StartAsync(address);
        Assert.Equal("late", await waiting.WaitAsync(Timeout));
    }

    [Fact]
    public async Task A_replica_added_to_the_resolver_gets_traffic_and_a_removed_one_none()
    {
        await using var replicas = await ReplicaSet.StartAsync(3);
        var resolver = new RpcStaticEndpointResolver("growing", replicas.Addresses[0]);
        await using var client = RpcBalancedClient.Create(resolver, new() { Policy = RpcBalancingPolicy.RoundRobin, ResolveInterval = System.Threading.Timeout.InfiniteTimeSpan });
        await client.WaitForReadyAsync().WaitAsync(Timeout);
        var service = client.GetService<IReplicaService>();
        await service.WorkAsync(0).WaitAsync(Timeout);

        resolver.Update(replicas.Addresses[1], replicas.Addresses[2]);
        await client.RefreshAsync().WaitAsync(Timeout);
        await client.WaitForReadyAsync(2).WaitAsync(Timeout);
        for (var i = 0; i < 10; i++)
        {
            await service.WorkAsync(i).WaitAsync(Timeout);
        }

        Assert.Equal(1, replicas[0].Calls);
        Assert.Equal(5, replicas[1].Calls);
        Assert.Equal(5, replicas[2].Calls);
        Assert.Equal(replicas.Addresses[1..], client.Endpoints);
    }

    [Fact]
    public async Task Endpoints_come_from_service_discovery_configuration()
    {
        await using var replicas = await ReplicaSet.StartAsync(2);
        var configuration = new ConfigurationBuilder().AddInMemoryCollection(new Dictionary<string, string?>
        {
            ["Services:catalog:rpc:0"] = replicas.Addresses[0]["tcp://".Length..],
            ["Services:catalog:rpc:1"] = replicas.Addresses[1]["tcp://".Length..],
        }).Build();
        var services = new ServiceCollection()
            .AddSingleton<IConfiguration>(configuration)
            .AddLogging()
            .AddServiceDiscoveryCore()
            .AddConfigurationServiceEndpointProvider()
            .BuildServiceProvider();

        var resolver = new RpcServiceDiscoveryResolver(services, "_rpc.catalog");
        Assert.Equal(replicas.Addresses, await resolver.ResolveAsync(CancellationToken.None));

        await using var client = RpcBalancedClient.Create(resolver);
        await client.WaitForReadyAsync(2).WaitAsync(Timeout);
        var service = client.GetService<IReplicaService>();
        var names = new HashSet<string>();
        for (var i = 0; i < 4; i++)
        {
            names.Add(await service.WorkAsync(i).WaitAsync(Timeout));
        }

        Assert.Equal(["r0", "r1"], names.Order());
    }

    [Fact]
    public async Task A_stream_stays_on_the_endpoint_it_started_on()
    {
        await using var replicas = await ReplicaSet.StartAsync(2);
        await using var client = await replicas.ConnectAsync(new() { Policy = RpcBalancingPolicy.RoundRobin });
        var service = client.GetService<IReplicaService>();

        var names = new List<string>();
        await foreach (var name in service.WatchAsync(10).WithCancellation(CancellationToken.None))
        {
            names.Add(name);
        }

        Assert.Single(names.Distinct());
        Assert.Equal(10, names.Count);
    }

    [Fact]
    public void Policy_names_parse_as_configuration_writes_them()
    {
        Assert.Equal(RpcBalancingPolicy.PickFirst, RpcBalancingPolicyNames.Parse("pick-first"));
        Assert.Equal(RpcBalancingPolicy.RoundRobin, RpcBalancingPolicyNames.Parse("round_robin"));
        Assert.Equal(RpcBalancingPolicy.LeastOutstanding, RpcBalancingPolicyNames.Parse("LeastOutstanding"));
        Assert.Throws<ArgumentException>(() => RpcBalancingPolicyNames.Parse("random"));
    }
}
