namespace RpcGen.Capnp;

/// <summary>Typed entry points of the capability transport for <c>[RpcService]</c> interfaces.</summary>
public static class CapnpServiceExtensions
{
    /// <summary>The peer's bootstrap capability as a <typeparamref name="TService"/>; usable at once (calls pipeline until it resolves). Dispose it to release it.</summary>
    public static TService Bootstrap<TService>(this CapnpConnection connection)
        where TService : class
    {
        ArgumentNullException.ThrowIfNull(connection);
        return CapnpServiceRegistry.ToService<TService>(connection.Bootstrap());
    }
}
