using System.Collections.Generic;

namespace RpcGen.Capnp;

/// <summary>Where each member of a struct lives, as the schema compiler would place it.</summary>
/// <param name="DataWords">Size of the data section in words.</param>
/// <param name="PointerCount">Size of the pointer section.</param>
/// <param name="Fields">Every field, keyed by its path through groups and named unions (<c>point.x</c>).</param>
/// <param name="Unions">Every union, keyed by path: <c>""</c> for the struct's unnamed union, <c>g</c> for an unnamed union inside group <c>g</c>, <c>u</c> for a named union.</param>
/// <param name="Groups">Discriminant values of groups and named unions that are members of a union, keyed by path.</param>
public sealed record StructLayout(
    int DataWords,
    int PointerCount,
    IReadOnlyDictionary<string, FieldLayout> Fields,
    IReadOnlyDictionary<string, UnionLayout> Unions,
    IReadOnlyDictionary<string, int> Groups);

/// <summary>One field's place.</summary>
/// <param name="Path">Path through groups and named unions.</param>
/// <param name="Ordinal">The field's ordinal.</param>
/// <param name="Type">The field's type.</param>
/// <param name="Offset">For data fields, the offset in units of the field's size (what readers and builders take); for pointers, the pointer index; 0 for Void.</param>
/// <param name="DiscriminantValue">The union tag that selects this field, or -1 when it is not a union member.</param>
public sealed record FieldLayout(string Path, int Ordinal, CapnpFieldType Type, int Offset, int DiscriminantValue)
{
    /// <summary>True when the field lives in the pointer section.</summary>
    public bool IsPointer => Type.IsPointer;

    /// <summary>Size in bits (0 for Void and pointers).</summary>
    public int BitSize => Type.LgBits >= 0 ? 1 << Type.LgBits : 0;

    /// <summary>First bit in the data section (0 for Void and pointers).</summary>
    public int BitOffset => Offset * BitSize;
}

/// <summary>A union's discriminant.</summary>
/// <param name="Path">The union's path.</param>
/// <param name="DiscriminantOffset">Offset of the 16-bit discriminant, in 16-bit units.</param>
/// <param name="MemberCount">How many members the union has.</param>
public sealed record UnionLayout(string Path, int DiscriminantOffset, int MemberCount)
{
    /// <summary>First bit of the discriminant.</summary>
    public int BitOffset => DiscriminantOffset * 16;
}
