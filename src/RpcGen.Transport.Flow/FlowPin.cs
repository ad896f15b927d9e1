namespace RpcGen.Transport.Flow;

/// <summary>
/// Keeps a connection of a <see cref="FlowManager"/> in its cache, never evicted, and dials it again
/// whenever it drops, until disposed (<see cref="FlowManager.PinConnectionAsync"/>).
/// </summary>
/// <remarks>
/// One watch loop per pin: it waits for the current connection to end, then dials until a dial
/// succeeds, the pin is disposed, or the manager is. Failed dials are retried after a short pause on
/// the manager's clock, so a remote that is down costs one attempt per pause, not a busy loop.
/// </remarks>
public sealed class FlowPin : IAsyncDisposable
{
    private static readonly TimeSpan RetryPause = TimeSpan.FromMilliseconds(100);

    private readonly FlowManager _manager;
    private readonly string _address;
    private readonly string _key;
    private readonly IPeerAuthorizer? _authorizer;
    private readonly CancellationTokenSource _unpinned = new();
    private readonly object _gate = new();
    private TaskCompletionSource<FlowConnection> _reconnected = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private FlowConnection _connection;

    internal FlowPin(FlowManager manager, string address, string key, IPeerAuthorizer? authorizer, FlowConnection connection)
    {
        _manager = manager;
        _address = address;
        _key = key;
        _authorizer = authorizer;
        _connection = connection;
        _ = WatchAsync();
    }

    /// <summary>The pinned connection now.</summary>
    public FlowConnection Connection
    {
        get
        {
            lock (_gate)
            {
                return _connection;
            }
        }
    }

    /// <summary>Completes with the new connection the next time the pin reconnects.</summary>
    public Task<FlowConnection> Reconnected
    {
        get
        {
            lock (_gate)
            {
                return _reconnected.Task;
            }
        }
    }

    private async Task WatchAsync()
    {
        var connection = Connection;
        while (!_unpinned.IsCancellationRequested && !_manager.IsStopping)
        {
            await connection.Completion.WaitAsync(_unpinned.Token).ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing);
            if (_unpinned.IsCancellationRequested || _manager.IsStopping)
            {
                return;
            }

            FlowLog.PinnedReconnect(_manager.Logger, _address, connection.CloseReason?.Message ?? "closed");
            try
            {
                // The cache entry keeps its pins, so the ended connection's entry is dialed again here.
                connection = await _manager.GetConnectionAsync(_address, _authorizer, null, dialIfMissing: true, _unpinned.Token).ConfigureAwait(false);
                TaskCompletionSource<FlowConnection> reconnected;
                lock (_gate)
                {
                    _connection = connection;
                    reconnected = _reconnected;
                    _reconnected = new TaskCompletionSource<FlowConnection>(TaskCreationOptions.RunContinuationsAsynchronously);
                }

                reconnected.TrySetResult(connection);
            }
            catch (Exception) when (!_unpinned.IsCancellationRequested && !_manager.IsStopping)
            {
                await Task.Delay(RetryPause, _manager.TimeProvider, _unpinned.Token).ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing);
            }
            catch (Exception)
            {
                return;
            }
        }
    }

    /// <summary>Unpins: the connection stays cached but may be evicted, and is not dialed again.</summary>
    public async ValueTask DisposeAsync()
    {
        await _unpinned.CancelAsync().ConfigureAwait(false);
        _manager.Unpin(_key);
    }
}
