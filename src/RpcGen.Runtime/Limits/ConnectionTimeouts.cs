namespace RpcGen.Limits;

/// <summary>
/// The time limits of one server connection: <see cref="RpcLimits.HandshakeTimeout"/> for its first
/// frame, <see cref="RpcLimits.FrameTimeout"/> for a frame in progress, <see cref="RpcLimits.IdleTimeout"/>
/// for a connection with nothing to do. The connection's reader records what it sees (timestamps
/// only, no timers); the server's <see cref="ConnectionWatchdog"/> asks <see cref="Expired"/>.
/// </summary>
/// <remarks>
/// Fields are written by the reader and read by the watchdog's timer thread; each is a single
/// <see langword="long"/> read and written with <see cref="Volatile"/>, and a check that reads a
/// slightly stale value is at most one period late.
/// </remarks>
internal sealed class ConnectionTimeouts
{
    private readonly RpcLimits _limits;
    private readonly TimeProvider _time;
    // Timestamps may be any value (a fake clock starts at 0), so "not yet" is this one.
    private const long NotYet = long.MinValue;

    private readonly long _openedAt;

    // Set when the first complete frame arrives; NotYet until then.
    private long _firstFrameAt = NotYet;

    // The last time a frame arrived or the connection was seen busy; the idle clock starts here.
    private long _lastActivityAt;

    // When the frame now partly received began (NotYet when none is), and how many bytes it
    // declared (0 while its length is not known yet).
    private long _frameStartedAt = NotYet;
    private long _frameDeclaredBytes;

    public ConnectionTimeouts(RpcLimits limits, TimeProvider time)
    {
        _limits = limits;
        _time = time;
        _openedAt = time.GetTimestamp();
        _lastActivityAt = _openedAt;
    }

    /// <summary>Called by the reader after each read: whether complete frames arrived, and what is left over.</summary>
    /// <param name="framesCompleted">Whether at least one whole frame was taken from this read.</param>
    /// <param name="partialFrameBytes">Bytes of an unfinished frame left after parsing (0 when none).</param>
    /// <param name="declaredFrameBytes">The unfinished frame's declared size with its header, when known; else 0.</param>
    public void OnRead(bool framesCompleted, long partialFrameBytes, long declaredFrameBytes)
    {
        if (framesCompleted || partialFrameBytes == 0)
        {
            var now = _time.GetTimestamp();
            if (framesCompleted)
            {
                if (Volatile.Read(ref _firstFrameAt) == NotYet)
                {
                    Volatile.Write(ref _firstFrameAt, now);
                }

                Volatile.Write(ref _lastActivityAt, now);
            }

            // A new frame's clock starts when the previous one completed.
            Volatile.Write(ref _frameStartedAt, partialFrameBytes == 0 ? NotYet : now);
        }
        else if (Volatile.Read(ref _frameStartedAt) == NotYet)
        {
            Volatile.Write(ref _frameStartedAt, _time.GetTimestamp());
        }

        Volatile.Write(ref _frameDeclaredBytes, declaredFrameBytes);
    }

    /// <summary>
    /// Why the connection must close at <paramref name="now"/>, or null while every limit holds.
    /// <paramref name="busy"/> says whether calls or streams are in flight (an idle limit does not apply then).
    /// </summary>
    public string? Expired(long now, bool busy)
    {
        if (_limits.HandshakeTimeout != Timeout.InfiniteTimeSpan
            && Volatile.Read(ref _firstFrameAt) == NotYet
            && _time.GetElapsedTime(_openedAt, now) > _limits.HandshakeTimeout)
        {
            return $"No complete frame arrived within {_limits.HandshakeTimeout.TotalSeconds:0.###} s of connecting (RpcLimits.HandshakeTimeout).";
        }

        var frameStarted = Volatile.Read(ref _frameStartedAt);
        if (_limits.FrameTimeout != Timeout.InfiniteTimeSpan && frameStarted != NotYet)
        {
            var declared = Volatile.Read(ref _frameDeclaredBytes);
            var allowed = _limits.FrameTimeout + TimeSpan.FromSeconds((double)declared / _limits.MinFrameBytesPerSecond);
            if (_time.GetElapsedTime(frameStarted, now) > allowed)
            {
                return $"A frame{(declared > 0 ? $" of {declared} bytes" : string.Empty)} was not completed within {allowed.TotalSeconds:0.###} s (RpcLimits.FrameTimeout, RpcLimits.MinFrameBytesPerSecond).";
            }
        }

        if (busy)
        {
            Volatile.Write(ref _lastActivityAt, now);
            return null;
        }

        if (_limits.IdleTimeout != Timeout.InfiniteTimeSpan
            && _time.GetElapsedTime(Volatile.Read(ref _lastActivityAt), now) > _limits.IdleTimeout)
        {
            return $"The connection was idle for {_limits.IdleTimeout.TotalSeconds:0.###} s (RpcLimits.IdleTimeout).";
        }

        return null;
    }
}
