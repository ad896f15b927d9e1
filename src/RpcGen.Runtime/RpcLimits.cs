namespace RpcGen;

/// <summary>
/// Limits that bound what one peer can make this process do. The defaults are safe for a server
/// exposed to untrusted clients; raise them deliberately. Settable like any options class (so
/// configuration can bind it); a server or connection reads them when it starts, and changing an
/// instance afterwards has no defined effect.
/// </summary>
public sealed class RpcLimits
{
    /// <summary>A new instance with the defaults (a new one each time, so changing it changes nobody else's).</summary>
    public static RpcLimits Default => new();

    /// <summary>The largest payload a frame may declare. Default 4 MiB. A larger declared length aborts the connection before anything is allocated.</summary>
    public int MaxFrameBytes { get; set; } = 4 * 1024 * 1024;

    /// <summary>The most inbound calls one connection may have in flight. Calls beyond it fail at once with <see cref="RpcStatusCode.Overloaded"/>. Default 1024.</summary>
    public int MaxConcurrentCalls { get; set; } = 1024;

    /// <summary>
    /// The most bytes buffered in each direction of a connection before the producer waits: outbound
    /// writers pause, and the socket is not read until the protocol catches up. Default 8 MiB.
    /// </summary>
    public int MaxPendingBytes { get; set; } = 8 * 1024 * 1024;

    /// <summary>
    /// The flow-control window of each stream, in bytes (each item costs its payload plus a 32-byte
    /// header): a producer may have at most this much unconsumed at the receiver, so a slow consumer
    /// stops its producer instead of growing memory. Default 1 MiB. An item larger than the window
    /// fails its stream.
    /// </summary>
    public int StreamWindowBytes { get; set; } = 1024 * 1024;

    /// <summary>How long a graceful shutdown waits for in-flight calls before it closes connections. Default 5 s.</summary>
    public TimeSpan ShutdownTimeout { get; set; } = TimeSpan.FromSeconds(5);

    /// <summary>
    /// The outbound bytes all of a server's connections may hold together (queued frames counted by
    /// the memory they occupy). Over it, every connection holding more than
    /// <see cref="MinPendingBytesPerConnection"/> stops reading until its peer catches up, so peers
    /// that do not read cannot add up to more than this while peers that do keep going. Default 256 MiB.
    /// </summary>
    public long MaxServerPendingBytes { get; set; } = 256L * 1024 * 1024;

    /// <summary>
    /// What a connection may always hold outbound, whatever the server-wide total: a well-behaved peer
    /// keeps its latency while others are throttled by <see cref="MaxServerPendingBytes"/>. Default 64 KiB.
    /// </summary>
    public int MinPendingBytesPerConnection { get; set; } = 64 * 1024;

    /// <summary>The most connections one server keeps open; one more is told why and closed. Default 1024.</summary>
    public int MaxConnections { get; set; } = 1024;

    /// <summary>
    /// The most connections one server keeps open from one remote IP address (TCP; Unix sockets and
    /// in-memory links are counted only by <see cref="MaxConnections"/>). Default 128.
    /// </summary>
    public int MaxConnectionsPerAddress { get; set; } = 128;

    /// <summary>
    /// How long a new connection has to deliver its first complete frame (on the message transport the
    /// client's Hello, which must come first; on Cap'n Proto its first message) before the server closes it.
    /// On <c>tls://</c> and <c>tls+unix:</c> listeners the TLS handshake (and an inner layer's) gets
    /// this long too, before the connection exists. Default 10 s. <see cref="Timeout.InfiniteTimeSpan"/> disables it.
    /// </summary>
    public TimeSpan HandshakeTimeout { get; set; } = TimeSpan.FromSeconds(10);

    /// <summary>
    /// How long a server keeps a connection that has no call in flight and receives nothing but
    /// keepalive pings (which the message transport does not count as activity, so a client's
    /// keepalive cannot hold an idle connection open) before it closes it. Default 5 minutes. <see cref="Timeout.InfiniteTimeSpan"/> disables it.
    /// </summary>
    public TimeSpan IdleTimeout { get; set; } = TimeSpan.FromMinutes(5);

    /// <summary>
    /// How long a peer has to finish a frame it has started sending, plus one second for every
    /// <see cref="MinFrameBytesPerSecond"/> bytes the frame declares. A peer that drips a frame slower
    /// than that loses its connection. Default 30 s. <see cref="Timeout.InfiniteTimeSpan"/> disables it.
    /// </summary>
    public TimeSpan FrameTimeout { get; set; } = TimeSpan.FromSeconds(30);

    /// <summary>The slowest receive rate a large frame is allowed (see <see cref="FrameTimeout"/>). Default 64 KiB/s.</summary>
    public int MinFrameBytesPerSecond { get; set; } = 64 * 1024;

    /// <summary>
    /// The longest deadline a server honours. A request whose deadline is further away is served as if
    /// it had none (it still ends when its caller cancels or disconnects). At most 49 days (the range of
    /// a timer). Default 7 days.
    /// </summary>
    public TimeSpan MaxDeadline { get; set; } = TimeSpan.FromDays(7);

    /// <summary>
    /// The most entries (headers, trailers, or the detail of an error) one call may carry. Default 64.
    /// A sender over it fails the call locally with <see cref="RpcStatusCode.InvalidPayload"/>; a peer
    /// that sends more has its connection aborted (<see cref="RpcStatusCode.ProtocolError"/>), checked
    /// before any entry is read.
    /// </summary>
    public int MaxMetadataEntries { get; set; } = 64;

    /// <summary>
    /// The most bytes one block of metadata may take on the wire (keys, values and their MessagePack
    /// framing). Default 8 KiB. Checked like <see cref="MaxMetadataEntries"/>; on receipt the frame's
    /// declared length is checked before its payload is buffered. Give both peers the same value.
    /// </summary>
    public int MaxMetadataBytes { get; set; } = 8 * 1024;

    /// <summary>Checks the values are usable.</summary>
    public void Validate()
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(MaxFrameBytes, 64);
        ArgumentOutOfRangeException.ThrowIfLessThan(MaxConcurrentCalls, 1);
        ArgumentOutOfRangeException.ThrowIfLessThan(MaxPendingBytes, 4096);
        ArgumentOutOfRangeException.ThrowIfLessThan(StreamWindowBytes, 4096);
        ArgumentOutOfRangeException.ThrowIfLessThan(MaxServerPendingBytes, MaxPendingBytes);
        ArgumentOutOfRangeException.ThrowIfLessThan(MinPendingBytesPerConnection, 4096);
        ArgumentOutOfRangeException.ThrowIfLessThan(MaxConnections, 1);
        ArgumentOutOfRangeException.ThrowIfLessThan(MaxConnectionsPerAddress, 1);
        ArgumentOutOfRangeException.ThrowIfLessThan(MinFrameBytesPerSecond, 1);
        ArgumentOutOfRangeException.ThrowIfLessThan(MaxMetadataEntries, 1);
        ArgumentOutOfRangeException.ThrowIfLessThan(MaxMetadataBytes, 256);
        ValidateTimeout(HandshakeTimeout, nameof(HandshakeTimeout));
        ValidateTimeout(IdleTimeout, nameof(IdleTimeout));
        ValidateTimeout(FrameTimeout, nameof(FrameTimeout));
        if (MaxDeadline <= TimeSpan.Zero || MaxDeadline > TimeSpan.FromDays(49))
        {
            throw new ArgumentOutOfRangeException(nameof(MaxDeadline), MaxDeadline, "Give a positive deadline of at most 49 days.");
        }
    }

    private static void ValidateTimeout(TimeSpan value, string name)
    {
        if (value != Timeout.InfiniteTimeSpan && value <= TimeSpan.Zero)
        {
            throw new ArgumentOutOfRangeException(name, value, "Give a positive time, or Timeout.InfiniteTimeSpan to disable it.");
        }
    }
}
