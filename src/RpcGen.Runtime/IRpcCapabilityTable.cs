namespace RpcGen;

/// <summary>
/// A connection's table of service references passed by reference (capabilities): objects this side
/// exported so the peer can call them, and references the peer exported to this side. A transport
/// that supports passing <c>[RpcService]</c> interfaces as arguments and results implements it; the
/// serializer reaches it through <see cref="RpcCapabilityContext"/>.
/// </summary>
public interface IRpcCapabilityTable
{
    /// <summary>Exports <paramref name="implementation"/> so the peer can call it; returns its id on this connection.</summary>
    uint Export<TService>(TService implementation)
        where TService : class;

    /// <summary>Returns a proxy for the peer's export <paramref name="id"/>.</summary>
    TService Import<TService>(uint id)
        where TService : class;
}

/// <summary>A channel to one capability the peer exported; disposing it releases the reference.</summary>
public interface IRpcCapabilityChannel : IRpcChannel, IAsyncDisposable
{
    /// <summary>The peer's id for the capability.</summary>
    uint ExportId { get; }
}
