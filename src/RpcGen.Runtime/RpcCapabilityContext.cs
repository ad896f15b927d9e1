namespace RpcGen;

/// <summary>
/// The capability table of the connection whose message is being written or read on this thread.
/// Serialization is synchronous, so a thread-static slot is enough; transports set it around every
/// payload they build or decode.
/// </summary>
public static class RpcCapabilityContext
{
    [ThreadStatic]
    private static IRpcCapabilityTable? t_current;

    /// <summary>The table in effect, or null outside a transport's serialization.</summary>
    public static IRpcCapabilityTable? Current => t_current;

    /// <summary>Makes <paramref name="table"/> current until the returned scope is disposed.</summary>
    public static Scope Enter(IRpcCapabilityTable? table)
    {
        var previous = t_current;
        t_current = table;
        return new Scope(previous);
    }

    /// <summary>Restores the enclosing table when disposed.</summary>
    public readonly struct Scope : IDisposable
    {
        private readonly IRpcCapabilityTable? _previous;

        internal Scope(IRpcCapabilityTable? previous) => _previous = previous;

        /// <inheritdoc />
        public void Dispose() => t_current = _previous;
    }
}
