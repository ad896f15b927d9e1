namespace RpcGen.Limits;

/// <summary>
/// The outbound bytes every connection of one server holds together, against
/// <see cref="RpcLimits.MaxServerPendingBytes"/>. Connections add what they queue and subtract what
/// they hand to the link; a connection's reader consults <see cref="ShouldPause"/> before reading on.
/// </summary>
internal sealed class OutboundBudget(RpcLimits limits)
{
    private long _held;

    /// <summary>Bytes held by all connections now.</summary>
    public long Held => Volatile.Read(ref _held);

    public void Add(long bytes) => Interlocked.Add(ref _held, bytes);

    /// <summary>
    /// Whether a connection holding <paramref name="ownBytes"/> must stop reading: it is over its own
    /// limit, or the server is over its total and this connection holds more than its guaranteed share.
    /// </summary>
    public bool ShouldPause(long ownBytes) =>
        ownBytes > limits.MaxPendingBytes
        || (ownBytes > limits.MinPendingBytesPerConnection && Volatile.Read(ref _held) > limits.MaxServerPendingBytes);

    /// <summary>A budget for a connection that belongs to no server (a client): only its own limit applies.</summary>
    public static OutboundBudget Unshared(RpcLimits limits) => new(limits);
}
