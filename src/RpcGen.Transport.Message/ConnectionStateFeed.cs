using System.Runtime.CompilerServices;
using System.Threading.Channels;

namespace RpcGen.Transport.Message;

/// <summary>
/// A client's <see cref="RpcConnectionState"/> and the parties watching it: an event, and any number
/// of <see cref="WatchAsync"/> enumerations, each of which sees the current state first and then
/// every change in order. <see cref="RpcConnectionState.Shutdown"/> is final and ends every watch.
/// </summary>
internal sealed class ConnectionStateFeed
{
    private readonly Lock _gate = new();
    private readonly List<Channel<RpcConnectionState>> _watchers = new();
    private RpcConnectionState _state;

    public ConnectionStateFeed(RpcConnectionState initial) => _state = initial;

    public RpcConnectionState State => _state;

    /// <summary>Raised after each change, on the thread that made it.</summary>
    public event Action<RpcConnectionState>? Changed;

    /// <summary>Moves to <paramref name="state"/>; returns false when it was already there or the feed is shut down.</summary>
    public bool Set(RpcConnectionState state)
    {
        lock (_gate)
        {
            if (_state == state || _state == RpcConnectionState.Shutdown)
            {
                return false;
            }

            _state = state;
            foreach (var watcher in _watchers)
            {
                watcher.Writer.TryWrite(state);
                if (state == RpcConnectionState.Shutdown)
                {
                    watcher.Writer.TryComplete();
                }
            }
        }

        Changed?.Invoke(state);
        return true;
    }

    public async IAsyncEnumerable<RpcConnectionState> WatchAsync([EnumeratorCancellation] CancellationToken cancellationToken)
    {
        var channel = Channel.CreateUnbounded<RpcConnectionState>(new UnboundedChannelOptions { SingleReader = true, SingleWriter = true });
        lock (_gate)
        {
            channel.Writer.TryWrite(_state);
            if (_state == RpcConnectionState.Shutdown)
            {
                channel.Writer.TryComplete();
            }
            else
            {
                _watchers.Add(channel);
            }
        }

        try
        {
            await foreach (var state in channel.Reader.ReadAllAsync(cancellationToken).ConfigureAwait(false))
            {
                yield return state;
            }
        }
        finally
        {
            lock (_gate)
            {
                _watchers.Remove(channel);
            }
        }
    }
}
