using System;

namespace RpcGen;

/// <summary>
/// Declares a subtype of a polymorphic DTO base, with the tag that identifies it on the wire.
/// Only listed subtypes can be sent where the base type is declared; anything else is rejected.
/// </summary>
/// <example>
/// <code>
/// [RpcKnownType(typeof(Circle), 1)]
/// [RpcKnownType(typeof(Square), 2)]
/// public abstract record Shape;
/// </code>
/// </example>
[AttributeUsage(AttributeTargets.Class | AttributeTargets.Interface, AllowMultiple = true, Inherited = false)]
public sealed class RpcKnownTypeAttribute : Attribute
{
    /// <summary>Declares <paramref name="subtype"/> with wire tag <paramref name="tag"/>.</summary>
    /// <param name="subtype">A concrete type deriving from the attributed type.</param>
    /// <param name="tag">A non-negative tag, unique among the base's known types.</param>
    public RpcKnownTypeAttribute(Type subtype, int tag)
    {
        Subtype = subtype;
        Tag = tag;
    }

    /// <summary>The subtype.</summary>
    public Type Subtype { get; }

    /// <summary>The wire tag of the subtype.</summary>
    public int Tag { get; }
}
