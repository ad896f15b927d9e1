namespace RpcGen;

/// <summary>
/// Limits that bound what one peer can make this process do. The defaults are safe for a server
/// exposed to untrusted clients; raise them deliberately.
/// </summary>
public sealed class RpcLimits
{
    /// <summary>The defaults.</summary>
    public static RpcLimits Default { get; } = new();

    /// <summary>The largest payload a frame may declare. Default 4 MiB. A larger declared length aborts the connection before anything is allocated.</summary>
    public int MaxFrameBytes { get; init; } = 4 * 1024 * 1024;

    /// <summary>The most inbound calls one connection may have in flight. Calls beyond it fail at once with <see cref="RpcStatusCode.Overloaded"/>. Default 1024.</summary>
    public int MaxConcurrentCalls { get; init; } = 1024;

    /// <summary>
    /// The most bytes buffered in each direction of a connection before the producer waits: outbound
    /// writers pause, and the socket is not read until the protocol catches up. Default 8 MiB.
    /// </summary>
    public int MaxPendingBytes { get; init; } = 8 * 1024 * 1024;

    /// <summary>
    /// The flow-control window of each stream, in bytes (each item costs its payload plus a 32-byte
    /// header): a producer may have at most this much unconsumed at the receiver, so a slow consumer
    /// stops its producer instead of growing memory. Default 1 MiB. An item larger than the window
    /// fails its stream.
    /// </summary>
    public int StreamWindowBytes { get; init; } = 1024 * 1024;

    /// <summary>How long a graceful shutdown waits for in-flight calls before it closes connections. Default 5 s.</summary>
    public TimeSpan ShutdownTimeout { get; init; } = TimeSpan.FromSeconds(5);

    /// <summary>Checks the values are usable.</summary>
    public void Validate()
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(MaxFrameBytes, 64);
        ArgumentOutOfRangeException.ThrowIfLessThan(MaxConcurrentCalls, 1);
        ArgumentOutOfRangeException.ThrowIfLessThan(MaxPendingBytes, 4096);
        ArgumentOutOfRangeException.ThrowIfLessThan(StreamWindowBytes, 4096);
    }
}
