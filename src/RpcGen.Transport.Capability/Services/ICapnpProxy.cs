namespace RpcGen.Capnp;

/// <summary>
/// Implemented by the generated Cap'n Proto proxies of <c>[RpcService]</c> interfaces: a typed view of a
/// <see cref="Capability"/>. Disposing the proxy releases the capability.
/// </summary>
public interface ICapnpProxy : IDisposable
{
    /// <summary>The capability the proxy calls; it belongs to the proxy (use <see cref="Capability.Dup"/> to keep one).</summary>
    Capability Capability { get; }
}
