namespace RpcGen;

/// <summary>
/// The server-side view of the call being served: which method, from which peer, until when.
/// Available to an implementation through <see cref="Current"/> for the whole call, including after
/// awaits.
/// </summary>
public abstract class RpcCallContext
{
    private static readonly AsyncLocal<RpcCallContext?> s_current = new();

    // Both null until received or first asked for, so a call without metadata allocates none.
    // Transports clear them when they reuse a call object.
    private RpcMetadata? _requestHeaders;
    private RpcMetadata? _responseTrailers;

    /// <summary>The context of the call the current code runs for, or null outside a call.</summary>
    public static RpcCallContext? Current => s_current.Value;

    /// <summary>The method being served.</summary>
    public abstract RpcMethodInfo Method { get; }

    /// <summary>The caller's address as the link reports it (e.g. <c>tcp://127.0.0.1:53122</c>).</summary>
    public abstract string Peer { get; }

    /// <summary>
    /// Who the caller is, as the link established it: the fingerprint, subject, email and CA of the
    /// certificate a TLS link verified, and on Unix sockets the caller's pid, uid and gid
    /// (<c>SO_PEERCRED</c>). Null when the link knows nothing beyond <see cref="Peer"/>.
    /// </summary>
    public virtual RpcGen.Security.RpcPeerIdentity? PeerIdentity => null;

    /// <summary>When the caller stops waiting, in UTC on this machine's clock; null without a deadline.</summary>
    public abstract DateTime? DeadlineUtc { get; }

    /// <summary>The time left until <see cref="DeadlineUtc"/> (never negative); null without a deadline.</summary>
    public TimeSpan? RemainingTime =>
        DeadlineUtc is { } deadline ? TimeSpan.FromTicks(Math.Max(0, (deadline - DateTime.UtcNow).Ticks)) : null;

    /// <summary>Fires when the caller cancels, the deadline passes or the connection drops.</summary>
    public abstract CancellationToken CancellationToken { get; }

    /// <summary>
    /// The headers the caller sent (see <see cref="RpcMetadataScope"/>), including the W3C trace
    /// context (<c>traceparent</c>, <c>tracestate</c>, <c>baggage</c>) when the caller was traced.
    /// Empty when it sent none. Server interceptors may change them before the implementation runs.
    /// </summary>
    public RpcMetadata RequestHeaders => _requestHeaders ??= new RpcMetadata();

    /// <summary>
    /// Trailers sent back with the response or the error (the caller reads them from its
    /// <see cref="RpcMetadataScope.ResponseTrailers"/>). Add to them any time before the call is answered.
    /// </summary>
    public RpcMetadata ResponseTrailers => _responseTrailers ??= new RpcMetadata();

    /// <summary>The received headers, or null when none came (reading it allocates nothing).</summary>
    protected internal RpcMetadata? ReceivedHeaders
    {
        get => _requestHeaders;
        set => _requestHeaders = value;
    }

    /// <summary>The trailers to send, or null when nobody added any (reading it allocates nothing).</summary>
    protected internal RpcMetadata? PendingTrailers
    {
        get => _responseTrailers;
        set => _responseTrailers = value;
    }

    /// <summary>Sets <see cref="Current"/> for the code that runs next on this flow; transports call this around dispatch.</summary>
    public static void SetCurrent(RpcCallContext? context) => s_current.Value = context;
}
