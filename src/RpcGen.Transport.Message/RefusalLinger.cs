namespace RpcGen.Transport.Message;

/// <summary>
/// How a server closes the connections it refuses (over <see cref="RpcLimits.MaxConnections"/> or
/// <see cref="RpcLimits.MaxConnectionsPerAddress"/>): after the <see cref="FrameKind.Abort"/> that
/// says why, it lingers (see <see cref="Links.RpcLink.CloseLingeringAsync"/>), so the client's hello,
/// unread in the socket, does not turn the close into a reset that can destroy the Abort before the
/// client reads it. What lingering may cost is bounded three ways: bytes read and dropped per
/// connection (<see cref="MaxDiscardBytes"/>), time per connection (<see cref="Time"/>), and
/// connections lingering at once (<see cref="MaxLingering"/>).
/// </summary>
/// <remarks>
/// Invariant: at most <see cref="MaxLingering"/> slots are taken at any time; each
/// <see cref="TryEnter"/> that returned true is matched by one <see cref="Exit"/>. No locks.
/// </remarks>
internal sealed class RefusalLinger(RpcLimits limits)
{
    /// <summary>
    /// Refused connections that may linger at once. A flood of connections the server refuses must not
    /// pin a socket each for the linger time: past this many, a refused connection is closed at once,
    /// as before lingering existed (its client may then see a reset instead of the reason).
    /// </summary>
    public const int MaxLingering = 64;

    /// <summary>
    /// What a lingering connection reads and drops before it closes anyway: a client's hello is one
    /// frame header and a payload of at most <see cref="HelloPayload.MaxSize"/> bytes; a keepalive
    /// ping or two may follow. A peer that sends more than that is not waiting for our reason.
    /// </summary>
    public const int MaxDiscardBytes = 4 * 1024;

    // Lingering connections now; at most MaxLingering.
    private int _lingering;

    /// <summary>
    /// How long one refused connection lingers at most: a second, or the handshake timeout when that
    /// is shorter (a peer is never held longer than it could hold an unfinished handshake). Measured
    /// on the real clock, not the server's <see cref="TimeProvider"/>: it is a grace for the kernel,
    /// not a policy a test needs to step through.
    /// </summary>
    public TimeSpan Time { get; } =
        limits.HandshakeTimeout == System.Threading.Timeout.InfiniteTimeSpan || limits.HandshakeTimeout > TimeSpan.FromSeconds(1)
            ? TimeSpan.FromSeconds(1)
            : limits.HandshakeTimeout;

    /// <summary>Takes a lingering slot; false when <see cref="MaxLingering"/> connections linger already.</summary>
    public bool TryEnter()
    {
        while (true)
        {
            var now = Volatile.Read(ref _lingering);
            if (now >= MaxLingering)
            {
                return false;
            }

            if (Interlocked.CompareExchange(ref _lingering, now + 1, now) == now)
            {
                return true;
            }
        }
    }

    /// <summary>Gives back a slot <see cref="TryEnter"/> took.</summary>
    public void Exit() => Interlocked.Decrement(ref _lingering);
}
