namespace RpcGen.Soak;

/// <summary>
/// The reconnect part of the mixed phase, one cycle at a time, alternating two ways a connection dies
/// with a call in flight: the server stops and restarts on the same address under a reconnecting
/// client, or the client disposes its connection and dials a new one. The call in flight must fail
/// with an error (never hang, never answer), and the next call on the new connection must succeed.
/// </summary>
public sealed class ReconnectCycles(string transport, SoakServerHost main, CallLedger ledger, MixedCalls calls) : IAsyncDisposable
{
    private static readonly TimeSpan Settle = TimeSpan.FromSeconds(30);

    // Short backoff: the restarted server is back at once, and a slow retry would only idle the cycle.
    private static readonly RpcReconnectPolicy FastBackoff = new() { InitialBackoff = TimeSpan.FromMilliseconds(10), MaxBackoff = TimeSpan.FromMilliseconds(100) };

    private SoakServerHost? _restarting;
    private RpcClient? _reconnecting;
    private long _cycles;

    public long Cycles => Interlocked.Read(ref _cycles);

    /// <summary>Runs cycles until <paramref name="stop"/> fires or <paramref name="maxCycles"/> ran.</summary>
    public async Task RunAsync(CancellationToken stop, long maxCycles = long.MaxValue)
    {
        // Restarting on the same address needs an address that can be bound again: tcp, tls or unix.
        var restartTransport = transport is "unix" or "tls" ? transport : "tcp";
        _restarting = await SoakServerHost.StartAsync(SoakServerHost.NewAddress(restartTransport), 16, 16, main.Tls);
        _reconnecting = await _restarting.ConnectAsync(new RpcClientOptions { Reconnect = FastBackoff, WaitForReady = true });
        while (!stop.IsCancellationRequested && Cycles < maxCycles)
        {
            if (Interlocked.Increment(ref _cycles) % 2 == 0)
            {
                await ServerRestartAsync();
            }
            else
            {
                await ClientRedialAsync();
            }
        }
    }

    public async ValueTask DisposeAsync()
    {
        if (_reconnecting is not null)
        {
            await _reconnecting.DisposeAsync();
        }

        if (_restarting is not null)
        {
            await _restarting.DisposeAsync();
        }
    }

    private async Task ServerRestartAsync()
    {
        var proxy = _reconnecting!.GetService<ISoakService>();
        await ledger.TrackAsync("reconnect: call before restart", id => calls.EchoAsync(proxy, id, $"before {id}"));
        await ledger.TrackAsync("reconnect: in flight at restart", async id =>
        {
            var server = _restarting!;
            var hang = proxy.HangAsync(id, CancellationToken.None);

            // Stopping before the call arrives would leave it waiting for the next server, not in flight.
            if (!await server.Pulse.WaitUntilAsync(() => server.Service.Hanging > 0 || hang.IsCompleted, Settle))
            {
                throw new TimeoutException("the hang never reached the server");
            }

            await server.StopAsync(TimeSpan.Zero);
            _restarting = await SoakServerHost.StartAsync(server.Address, 16, 16, main.Tls);
            return await Failed(hang);
        });
        await ledger.TrackAsync("reconnect: call after restart", id => calls.EchoAsync(proxy, id, $"after {id}"));
    }

    private async Task ClientRedialAsync()
    {
        var client = await main.ConnectAsync();
        var proxy = client.GetService<ISoakService>();
        await ledger.TrackAsync("redial: call on new connection", id => calls.EchoAsync(proxy, id, $"fresh {id}"));
        await ledger.TrackAsync("redial: in flight at dispose", async id =>
        {
            var hang = proxy.HangAsync(id, CancellationToken.None);
            await client.DisposeAsync();
            return await Failed(hang);
        });
    }

    /// <summary>A call whose connection died must fail, as Disconnected (or Cancelled, if the dispose cancelled it first).</summary>
    private static async Task<CallOutcome> Failed(Task hang)
    {
        try
        {
            await hang;
            return CallOutcome.CrossTalk;
        }
        catch (RpcException ex) when (ex.StatusCode is RpcStatusCode.Disconnected or RpcStatusCode.Cancelled)
        {
            return CallOutcome.ProvokedFailure;
        }
    }
}
