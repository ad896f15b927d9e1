namespace RpcGen.Capnp;

/// <summary>
/// Lifetime rules for capabilities an implementation receives. A service-typed parameter of a call
/// that arrives over Cap'n Proto is a proxy lent to the call: it is released (the peer is sent
/// <c>Release</c>) when the call returns, so a method that only uses it during the call needs
/// nothing. To keep it (store a callback, say), retain it during the call.
/// </summary>
public static class CapnpCapability
{
    /// <summary>
    /// Keeps <paramref name="service"/>, received as a parameter of the call being handled, beyond that
    /// call, and returns it: the proxy is then owned by the implementation, which disposes it when done
    /// (a proxy never disposed is released by the garbage collector, with a warning). Anything that is
    /// not a lent proxy (a proxy the implementation already owns, a local object) is returned as it is.
    /// </summary>
    /// <exception cref="ObjectDisposedException">The call that lent the proxy already returned and released it.</exception>
    public static TService Retain<TService>(TService service)
        where TService : class
    {
        ArgumentNullException.ThrowIfNull(service);
        if (service is ICapnpProxy proxy)
        {
            proxy.Capability.Retain();
        }

        return service;
    }
}
