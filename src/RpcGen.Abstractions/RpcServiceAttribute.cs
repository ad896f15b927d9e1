using System;

namespace RpcGen;

/// <summary>
/// Marks an interface as an RPC service contract. The RpcGen source generator emits a client proxy,
/// a server dispatcher and wire formatters for it.
/// </summary>
/// <remarks>
/// Every service has a stable 64-bit id that goes on the wire. Without an explicit id it is derived
/// from the interface's full name (FNV-1a 64 of <c>Namespace.IName</c>), so renaming the interface or
/// moving it to another namespace changes the id; pin it with <see cref="Id"/> to keep the wire stable.
/// </remarks>
[AttributeUsage(AttributeTargets.Interface, AllowMultiple = false, Inherited = false)]
public sealed class RpcServiceAttribute : Attribute
{
    /// <summary>Creates the attribute with an id derived from the interface name.</summary>
    public RpcServiceAttribute()
    {
    }

    /// <summary>Creates the attribute with an explicit, stable 64-bit service id.</summary>
    /// <param name="id">The service id written on the wire. Must not be zero.</param>
    public RpcServiceAttribute(ulong id)
    {
        Id = id;
    }

    /// <summary>The explicit service id, or zero when the id is derived from the interface name.</summary>
    public ulong Id { get; }
}
