using RpcGen.Transport.Message;

namespace RpcGen.Balancing.Tests;

/// <summary>Graceful drain (a rolling update's stop): the server finishes what it runs, the balancer moves the rest.</summary>
public sealed class DrainTests
{
    private static readonly TimeSpan Timeout = ReplicaSet.Timeout;

    [Fact]
    public async Task A_draining_replica_finishes_its_calls_while_new_ones_move_and_none_fails()
    {
        await using var replicas = await ReplicaSet.StartAsync(2);
        await using var client = await replicas.ConnectAsync(new() { Policy = RpcBalancingPolicy.RoundRobin });
        var service = client.GetService<IReplicaService>();
        var draining = replicas[0];
        draining.Hold();

        // Two calls running on the replica about to drain (round-robin sends it every other call).
        var running = Enumerable.Range(0, 4).Select(service.WorkAsync).ToList();
        await draining.Arrivals.Reader.ReadAsync().AsTask().WaitAsync(Timeout);
        await draining.Arrivals.Reader.ReadAsync().AsTask().WaitAsync(Timeout);

        var stopping = replicas.Servers[0].StopAsync(Timeout);

        // Not idempotent, made while it drains: each goes to the other replica, directly or after the
        // draining one refused it unprocessed. None fails and none runs on the draining replica.
        var during = await Task.WhenAll(Enumerable.Range(100, 60).Select(service.WorkAsync)).WaitAsync(Timeout);
        Assert.All(during, name => Assert.Equal("r1", name));
        Assert.False(stopping.IsCompleted);
        Assert.Equal(2, draining.Calls);

        // The calls it was running finish, and only then does it close.
        draining.Release();
        await stopping.WaitAsync(Timeout);
        Assert.Equal(["r0", "r0", "r1", "r1"], (await Task.WhenAll(running).WaitAsync(Timeout)).Order());
        Assert.DoesNotContain(replicas.Addresses[0], client.ReadyEndpoints);
    }

    [Fact]
    public async Task A_call_to_a_draining_server_fails_marked_not_processed()
    {
        var replica = new Replica("only");
        await using var server = new RpcServer();
        server.AddService<IReplicaService>(replica);
        await server.StartAsync("tcp://127.0.0.2:0");
        await using var client = await RpcClient.ConnectAsync(server.Addresses[0]);
        var service = client.GetService<IReplicaService>();
        replica.Hold();
        var running = service.WorkAsync(1);
        await replica.Arrivals.Reader.ReadAsync().AsTask().WaitAsync(Timeout);

        var stopping = server.StopAsync(Timeout);

        // Whether the client had read the GoAway (refused before sending) or not (refused by the
        // server before dispatch), the refusal says the call did not run.
        var refused = await Assert.ThrowsAsync<RpcException>(() => service.WorkAsync(2).WaitAsync(Timeout));
        Assert.Equal(RpcStatusCode.Disconnected, refused.StatusCode);
        Assert.True(refused.NotProcessed);
        Assert.Equal(1, replica.Calls);

        replica.Release();
        Assert.Equal("only", await running.WaitAsync(Timeout));
        await stopping.WaitAsync(Timeout);
    }

    [Fact]
    public async Task Repeated_drains_under_load_fail_no_call()
    {
        await using var replicas = await ReplicaSet.StartAsync(3);
        await using var client = await replicas.ConnectAsync(new() { Policy = RpcBalancingPolicy.RoundRobin });
        var service = client.GetService<IReplicaService>();

        // Load: eight callers, each making non-idempotent calls one after another until told to stop.
        var load = new CallLoad(8, (caller, i) => service.WorkAsync(caller * 1_000_000 + i));

        // Drain two of the three replicas, one after the other, while the load runs; each stop
        // begins once the load has reached the replica.
        foreach (var index in new[] { 0, 1 })
        {
            await replicas[index].Arrivals.Reader.ReadAsync().AsTask().WaitAsync(Timeout);
            await replicas.Servers[index].StopAsync(Timeout).WaitAsync(Timeout);
        }

        var before = load.Completed;
        await replicas[2].Arrivals.Reader.ReadAsync().AsTask().WaitAsync(Timeout);
        Assert.Empty(await load.StopAsync(Timeout));
        Assert.True(load.Completed > before);
    }
}
