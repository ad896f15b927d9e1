namespace RpcGen.Transport.Message;

/// <summary>
/// A client connection's health check: when no frame has arrived for <see cref="RpcClientOptions.KeepAliveInterval"/>
/// it sends a <see cref="FrameKind.Ping"/>, and when the <see cref="FrameKind.Pong"/> does not come back
/// within <see cref="RpcClientOptions.KeepAliveTimeout"/> it declares the peer dead and closes the
/// connection (every pending call then fails with <see cref="RpcStatusCode.Disconnected"/>). Each
/// answered ping, and the hello exchange, measures the round-trip time.
/// </summary>
/// <remarks>
/// One timer per connection, from the client's <see cref="TimeProvider"/> (tests drive it with a fake
/// clock), re-armed for the next moment something can be due: never a timer per frame. The reader
/// only stores a timestamp per batch of frames. State is guarded by <c>_gate</c>; the ping is sent
/// outside it.
/// </remarks>
internal sealed class KeepAlive : IDisposable
{
    private const long NotYet = long.MinValue;

    private readonly MessageConnection _connection;
    private readonly TimeProvider _time;
    private readonly TimeSpan _interval;
    private readonly TimeSpan _timeout;
    private readonly Lock _gate = new();

    // Written by the reader after each batch of frames; read by the timer.
    private long _lastReceivedAt;

    // When the hello was sent (for the first round-trip measurement); NotYet before.
    private long _helloSentAt = NotYet;

    // The ping waiting for its pong: its sequence (call-id field) and when it left. Guarded by _gate.
    private bool _awaitingPong;
    private uint _pingSequence;
    private long _pingSentAt;

    // Created once the handshake completed (when pings are enabled); null after Dispose.
    private ITimer? _timer;
    private bool _disposed;

    // The last measured round trip in TimeSpan ticks; -1 until one was measured.
    private long _roundTripTicks = -1;

    public KeepAlive(MessageConnection connection, TimeProvider time, TimeSpan interval, TimeSpan timeout)
    {
        _connection = connection;
        _time = time;
        _interval = interval;
        _timeout = timeout;
        _lastReceivedAt = time.GetTimestamp();
    }

    /// <summary>The last measured round-trip time, or null before the first.</summary>
    public TimeSpan? RoundTripTime => Volatile.Read(ref _roundTripTicks) is var ticks and >= 0 ? TimeSpan.FromTicks(ticks) : null;

    private bool Enabled => _interval != Timeout.InfiniteTimeSpan;

    public void OnHelloSent() => Volatile.Write(ref _helloSentAt, _time.GetTimestamp());

    /// <summary>The peer's hello arrived: record the first round trip and start watching.</summary>
    public void OnHelloAnswered()
    {
        var sent = Volatile.Read(ref _helloSentAt);
        if (sent != NotYet)
        {
            Volatile.Write(ref _roundTripTicks, _time.GetElapsedTime(sent).Ticks);
        }

        if (!Enabled)
        {
            return;
        }

        lock (_gate)
        {
            if (!_disposed && _timer is null)
            {
                _timer = _time.CreateTimer(static state => ((KeepAlive)state!).OnTimer(), this, _interval, Timeout.InfiniteTimeSpan);
            }
        }
    }

    /// <summary>Frames arrived: the peer is alive, and the quiet period restarts.</summary>
    public void OnFramesReceived() => Volatile.Write(ref _lastReceivedAt, _time.GetTimestamp());

    /// <summary>A pong arrived; it answers our ping when the sequence matches.</summary>
    public void OnPong(uint sequence)
    {
        lock (_gate)
        {
            if (!_awaitingPong || sequence != _pingSequence)
            {
                // A late answer to a ping already given up on, or one we never sent: harmless.
                return;
            }

            _awaitingPong = false;
            Volatile.Write(ref _roundTripTicks, _time.GetElapsedTime(_pingSentAt).Ticks);
            _timer?.Change(_interval, Timeout.InfiniteTimeSpan);
        }
    }

    public void Dispose()
    {
        lock (_gate)
        {
            _disposed = true;
            _timer?.Dispose();
            _timer = null;
        }
    }

    private void OnTimer()
    {
        uint? ping = null;
        string? dead = null;
        lock (_gate)
        {
            if (_disposed || _timer is null)
            {
                return;
            }

            var now = _time.GetTimestamp();
            if (_awaitingPong)
            {
                var waited = _time.GetElapsedTime(_pingSentAt, now);
                if (waited >= _timeout)
                {
                    dead = $"The server did not answer a keepalive ping within {_timeout.TotalSeconds:0.###} s (RpcClientOptions.KeepAliveTimeout); the connection is considered dead.";
                    _awaitingPong = false;
                }
                else
                {
                    _timer.Change(_timeout - waited, Timeout.InfiniteTimeSpan);
                }
            }
            else
            {
                var quiet = _time.GetElapsedTime(Volatile.Read(ref _lastReceivedAt), now);
                if (quiet >= _interval)
                {
                    _awaitingPong = true;
                    _pingSentAt = now;
                    ping = ++_pingSequence;
                    _timer.Change(_timeout, Timeout.InfiniteTimeSpan);
                }
                else
                {
                    _timer.Change(_interval - quiet, Timeout.InfiniteTimeSpan);
                }
            }
        }

        if (dead is not null)
        {
            _connection.CloseAsDead(dead);
        }
        else if (ping is { } sequence)
        {
            _connection.SendPing(sequence);
        }
    }
}
