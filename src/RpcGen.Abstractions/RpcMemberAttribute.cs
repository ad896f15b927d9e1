using System;

namespace RpcGen;

/// <summary>
/// Pins the position of a DTO member in its serialized array.
/// </summary>
/// <remarks>
/// DTOs need no attributes: members are written in declaration order. Appending a member at the
/// end stays compatible both ways (old readers skip it, new readers default it). Pin positions
/// when members may be reordered or removed; unpinned members then follow the highest pinned one.
/// </remarks>
[AttributeUsage(AttributeTargets.Property | AttributeTargets.Field, AllowMultiple = false, Inherited = true)]
public sealed class RpcMemberAttribute : Attribute
{
    /// <summary>Pins the member to <paramref name="position"/>.</summary>
    /// <param name="position">Zero-based position in the serialized array; unique within the type.</param>
    public RpcMemberAttribute(int position)
    {
        Position = position;
    }

    /// <summary>The pinned position.</summary>
    public int Position { get; }
}
