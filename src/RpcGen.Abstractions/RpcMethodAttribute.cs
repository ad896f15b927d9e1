using System;

namespace RpcGen;

/// <summary>
/// Pins a method's ordinal (its id on the wire) so that renaming or reordering methods does not
/// break compatibility.
/// </summary>
/// <remarks>
/// Without this attribute the ordinal is derived from the method's name and parameter types
/// (FNV-1a 32 of <c>Name(T1,T2)</c>, with the top bit set so it never collides with a pinned
/// ordinal below 2^31). Pinned ordinals must be unique within a service.
/// </remarks>
[AttributeUsage(AttributeTargets.Method, AllowMultiple = false, Inherited = false)]
public sealed class RpcMethodAttribute : Attribute
{
    /// <summary>Pins the method's ordinal.</summary>
    /// <param name="ordinal">A value from 0 to 2^31-1, unique within the service.</param>
    public RpcMethodAttribute(int ordinal)
    {
        Ordinal = ordinal;
    }

    /// <summary>The pinned ordinal.</summary>
    public int Ordinal { get; }
}
