using System;

namespace RpcGen;

/// <summary>
/// Pins the 64-bit id of a DTO, a base with known subtypes, or an enum in the exported Cap'n Proto
/// schema (its top bit must be set, as the schema language requires). Without it the id is derived
/// from the type's full name. Type ids do not travel on the wire; interface ids do and are pinned by
/// <see cref="RpcServiceAttribute"/>.
/// </summary>
[AttributeUsage(AttributeTargets.Class | AttributeTargets.Struct | AttributeTargets.Enum | AttributeTargets.Interface, AllowMultiple = false, Inherited = false)]
public sealed class RpcTypeIdAttribute : Attribute
{
    /// <summary>Pins the type id.</summary>
    /// <param name="id">The id, with its top bit set.</param>
    public RpcTypeIdAttribute(ulong id)
    {
        Id = id;
    }

    /// <summary>The pinned id.</summary>
    public ulong Id { get; }
}
