using RpcGen.Transport.Flow;

namespace RpcGen.Transport.SharedMemory.Tests;

/// <summary>
/// RPC over flows on a shared-memory link (<c>flow+shm:</c>) between this process and the test host:
/// calls, callbacks and streams of several RPC connections travel as flows on one link, and a host
/// killed mid-call fails the pending call of every one of them with <c>Disconnected</c>.
/// </summary>
public sealed class CrossProcessFlowTests() : HostedProcessTests("flow+shm")
{
    [Fact]
    public async Task Calls_callbacks_and_streams_of_two_connections_cross_as_flows_on_one_link()
    {
        Assert.StartsWith("flow+shm:", _host.Address, StringComparison.Ordinal);
        await using var first = await RpcClient.ConnectAsync(_host.Address).WaitAsync(s_timeout);
        await using var second = await RpcClient.ConnectAsync(_host.Address).WaitAsync(s_timeout);
        foreach (var client in new[] { first, second })
        {
            var service = client.GetService<IShmService>();
            Assert.Equal(5, await service.AddAsync(2, 3).WaitAsync(s_timeout));
            Assert.NotEqual(Environment.ProcessId, await service.ProcessIdAsync().WaitAsync(s_timeout));
            Assert.Equal(2L * (19 * 20 / 2), await service.CallBackAsync(new Doubler(), 20).WaitAsync(s_timeout));
            Assert.Equal(100 * 101 / 2, await service.SumAsync(Produce(101)).WaitAsync(s_timeout));
            var counted = new List<int>();
            using var countBound = new CancellationTokenSource(s_timeout);
            await foreach (var value in service.CountAsync(50).WithCancellation(countBound.Token))
            {
                counted.Add(value);
            }

            Assert.Equal(Enumerable.Range(0, 50), counted);
        }

        // Both RPC connections are flows on the one shared-memory link this process dialed.
        var link = await FlowManager.Default.FindCachedAsync(_host.Address["flow+".Length..]);
        Assert.NotNull(link);
        Assert.StartsWith("shm:", link.RemoteAddress, StringComparison.Ordinal);
        Assert.True(link.FlowCount >= 2, $"both RPC connections travel on one link ({link.FlowCount} flows)");
    }

    [Fact]
    public async Task A_host_killed_mid_call_fails_the_pending_call_of_every_connection_with_Disconnected()
    {
        await using var first = await RpcClient.ConnectAsync(_host.Address).WaitAsync(s_timeout);
        await using var second = await RpcClient.ConnectAsync(_host.Address).WaitAsync(s_timeout);
        var pendingFirst = first.GetService<IShmService>().HangAsync("first");
        var pendingSecond = second.GetService<IShmService>().HangAsync("second");
        // The two calls may start in either order: take both lines as they come.
        var started = new[] { await _host.WaitForLineAsync("started ", s_timeout), await _host.WaitForLineAsync("started ", s_timeout) };
        Assert.Equal(["started first", "started second"], started.Order(StringComparer.Ordinal));

        await _host.KillAsync();

        foreach (var pending in new[] { pendingFirst, pendingSecond })
        {
            var error = await Assert.ThrowsAsync<RpcException>(() => pending.WaitAsync(s_timeout));
            Assert.Equal(RpcStatusCode.Disconnected, error.StatusCode);
        }

        // The process-wide manager that held the dead link goes on serving: a new host is dialed and called.
        await using var again = await HostProcess.StartAsync(HostProcess.NewAddress("flow+shm"));
        await using var client = await RpcClient.ConnectAsync(again.Address).WaitAsync(s_timeout);
        Assert.Equal(7, await client.GetService<IShmService>().AddAsync(3, 4).WaitAsync(s_timeout));
    }
}
