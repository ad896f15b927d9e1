namespace RpcGen.Transport.Flow;

/// <summary>
/// Flow control and the bounds one peer can make this side hold, with safe defaults. Both sides
/// announce theirs when a connection opens; each sends within what the other announced.
/// </summary>
public sealed record FlowLimits
{
    /// <summary>The defaults.</summary>
    public static FlowLimits Default { get; } = new();

    /// <summary>
    /// Bytes the peer may send on one flow before this side releases more (the per-flow window, and
    /// the most a flow buffers unread). Released in batches once about half is consumed. Default 256 KiB.
    /// </summary>
    public int WindowBytes { get; init; } = 256 * 1024;

    /// <summary>
    /// The connection's shared pool: bytes the peer's newly dialed flows may borrow before this side
    /// granted them a window, so opening a flow and sending at once costs no round trip. Borrowed
    /// bytes return to the pool as they are read and when the flow closes. Default 1 MiB.
    /// </summary>
    public int SharedPoolBytes { get; init; } = 1024 * 1024;

    /// <summary>The largest payload this side puts in one frame; larger writes are split so other flows interleave. Default 64 KiB.</summary>
    public int MtuBytes { get; init; } = 64 * 1024;

    /// <summary>The largest frame payload accepted from the peer; a larger declared length closes the connection. Default 64 KiB.</summary>
    public int MaxFrameBytes { get; init; } = 64 * 1024;

    /// <summary>
    /// Flows open at once on one connection (both directions together), and flows the peer opened
    /// that wait to be accepted (ended ones included); a flow opened past either is reset. A manager's
    /// <see cref="FlowManager.AcceptAsync"/> queue holds at most this many too. Default 1,024.
    /// </summary>
    public int MaxFlows { get; init; } = 1024;

    /// <summary>The largest message <see cref="Flow.ReadMessageAsync"/> assembles. Default 16 MiB.</summary>
    public int MaxMessageBytes { get; init; } = 16 * 1024 * 1024;

    /// <summary>How long the setup exchange (and authorization) may take. Default 10 s.</summary>
    public TimeSpan HandshakeTimeout { get; init; } = TimeSpan.FromSeconds(10);

    /// <summary>
    /// How long the peer may stay silent before the connection is declared dead and every flow on it
    /// fails with <see cref="FlowErrorCode.Network"/>. Health-check pings go out every third of it.
    /// <see cref="Timeout.InfiniteTimeSpan"/> turns health checks off. Default 30 s.
    /// </summary>
    public TimeSpan ChannelTimeout { get; init; } = TimeSpan.FromSeconds(30);

    /// <summary>How long a graceful close waits for open flows to finish before tearing down. Default 10 s.</summary>
    public TimeSpan LameDuckTimeout { get; init; } = TimeSpan.FromSeconds(10);

    /// <summary>Throws <see cref="FlowException"/> (<see cref="FlowErrorCode.BadArg"/>) when a value cannot work.</summary>
    public void Validate()
    {
        if (MtuBytes < 256 || MaxFrameBytes < 256 || MaxFrameBytes > 16 * 1024 * 1024)
        {
            throw new FlowException(FlowErrorCode.BadArg, "MtuBytes and MaxFrameBytes must be at least 256 bytes; MaxFrameBytes at most 16 MiB.");
        }

        if (WindowBytes < MtuBytes || SharedPoolBytes < 0 || MaxFlows < 1 || MaxMessageBytes < 1)
        {
            throw new FlowException(FlowErrorCode.BadArg, "WindowBytes must be at least MtuBytes; SharedPoolBytes must not be negative; MaxFlows and MaxMessageBytes must be positive.");
        }

        if (HandshakeTimeout <= TimeSpan.Zero || LameDuckTimeout < TimeSpan.Zero || (ChannelTimeout <= TimeSpan.Zero && ChannelTimeout != Timeout.InfiniteTimeSpan))
        {
            throw new FlowException(FlowErrorCode.BadArg, "HandshakeTimeout and ChannelTimeout must be positive (ChannelTimeout may be infinite); LameDuckTimeout must not be negative.");
        }
    }
}
