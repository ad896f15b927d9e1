using RpcGen.Transport.Message.TestServer;

namespace RpcGen.Transport.Message.Tests;

/// <summary>
/// A reconnecting client against a real server process that is killed (-9) in the middle of a call
/// and started again on the same address: the same proxy works again, the call that was in flight
/// fails with Disconnected, and an [Idempotent] call in flight is re-sent once and succeeds.
/// </summary>
public class ServerRestartProcessTests
{
    private static readonly TimeSpan Timeout = TransportFixture.Timeout;

    private static readonly RpcClientOptions Options = new()
    {
        Reconnect = new RpcReconnectPolicy { InitialBackoff = TimeSpan.FromMilliseconds(50), MaxBackoff = TimeSpan.FromMilliseconds(500) },
    };

    [Fact]
    public async Task Killing_the_server_mid_call_fails_that_call_and_the_same_proxy_works_after_a_restart_on_the_same_address()
    {
        var first = await ServerProcess.StartAsync("tcp://127.0.0.1:0", hang: true);
        await using var firstScope = first;
        await using var client = await RpcClient.ConnectAsync(first.Address, Options).WaitAsync(Timeout);
        var proxy = client.GetService<IRestartService>();
        Assert.Equal(first.Id, await proxy.ProcessIdAsync().WaitAsync(Timeout));
        var inFlight = proxy.SubmitAsync("order-1");
        await first.WaitForLineAsync("started submit order-1", Timeout);

        await first.KillAsync();

        var error = await Assert.ThrowsAsync<RpcException>(() => inFlight.WaitAsync(Timeout));
        Assert.Equal(RpcStatusCode.Disconnected, error.StatusCode);
        await using var second = await ServerProcess.StartAsync(first.Address);
        using (RpcWaitForReady.Set(true))
        {
            Assert.Equal(second.Id, await proxy.ProcessIdAsync().WaitAsync(ServerProcess.StartTimeout));
        }

        Assert.Equal($"submit:order-2:{second.Id}", await proxy.SubmitAsync("order-2").WaitAsync(Timeout));
        Assert.Equal(RpcConnectionState.Ready, client.State);
    }

    [Fact]
    public async Task An_idempotent_call_in_flight_when_the_server_is_killed_is_resent_once_to_the_restarted_server()
    {
        // A Unix socket: the killed process leaves its socket file behind, which the restarted
        // server must recognise as stale and replace.
        var first = await ServerProcess.StartAsync(TransportFixture.NewAddress("unix"), hang: true);
        await using var firstScope = first;
        await using var client = await RpcClient.ConnectAsync(first.Address, Options).WaitAsync(Timeout);
        var proxy = client.GetService<IRestartService>();
        var inFlight = proxy.ReadAsync("balance");
        await first.WaitForLineAsync("started read balance", Timeout);

        await first.KillAsync();
        await using var second = await ServerProcess.StartAsync(first.Address);

        Assert.Equal($"read:balance:{second.Id}", await inFlight.WaitAsync(ServerProcess.StartTimeout));
        await second.WaitForLineAsync("started read balance", Timeout);
    }
}
