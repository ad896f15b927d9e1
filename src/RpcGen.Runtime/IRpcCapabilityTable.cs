namespace RpcGen;

/// <summary>
/// A connection's table of service references passed by reference (capabilities): objects this side
/// exported so the peer can call them, and references the peer exported to this side. A transport
/// that supports passing <c>[RpcService]</c> interfaces as arguments and results implements it; the
/// serializer reaches it through <see cref="RpcCapabilityContext"/>.
/// </summary>
public interface IRpcCapabilityTable
{
    /// <summary>
    /// Exports <paramref name="implementation"/> so the peer can call it. When it is itself a proxy for
    /// something the peer exported on this connection, the reference points back at the peer's own
    /// object instead of adding a hop.
    /// </summary>
    RpcCapabilityReference Export<TService>(TService implementation)
        where TService : class;

    /// <summary>Returns a proxy for <paramref name="reference"/> (or, for a reference to one of our own exports, the object itself).</summary>
    TService Import<TService>(RpcCapabilityReference reference)
        where TService : class;
}

/// <summary>A service reference as it travels: an export id, and whose table it is in.</summary>
/// <param name="Id">The export id.</param>
/// <param name="ReceiverHosted">True when the id is in the receiver's own export table (a reference coming home); false when the sender exported it.</param>
public readonly record struct RpcCapabilityReference(uint Id, bool ReceiverHosted);

/// <summary>A channel to one capability the peer exported; disposing it releases the reference.</summary>
public interface IRpcCapabilityChannel : IRpcChannel, IAsyncDisposable
{
    /// <summary>The peer's id for the capability.</summary>
    uint ExportId { get; }
}
