using System;

namespace RpcGen.Capnp;

/// <summary>The kinds of field type a Cap'n Proto schema can declare.</summary>
public enum CapnpTypeKind
{
    /// <summary><c>Void</c>: no storage.</summary>
    Void,

    /// <summary><c>Bool</c>: one bit.</summary>
    Bool,

    /// <summary><c>Int8</c>.</summary>
    Int8,

    /// <summary><c>Int16</c>.</summary>
    Int16,

    /// <summary><c>Int32</c>.</summary>
    Int32,

    /// <summary><c>Int64</c>.</summary>
    Int64,

    /// <summary><c>UInt8</c>.</summary>
    UInt8,

    /// <summary><c>UInt16</c>.</summary>
    UInt16,

    /// <summary><c>UInt32</c>.</summary>
    UInt32,

    /// <summary><c>UInt64</c>.</summary>
    UInt64,

    /// <summary><c>Float32</c>.</summary>
    Float32,

    /// <summary><c>Float64</c>.</summary>
    Float64,

    /// <summary>An enum: 16 bits.</summary>
    Enum,

    /// <summary><c>Text</c>: a pointer.</summary>
    Text,

    /// <summary><c>Data</c>: a pointer.</summary>
    Data,

    /// <summary><c>List(T)</c>: a pointer.</summary>
    List,

    /// <summary>A struct: a pointer.</summary>
    Struct,

    /// <summary>An interface (a capability): a pointer.</summary>
    Interface,

    /// <summary><c>AnyPointer</c>.</summary>
    AnyPointer,
}

/// <summary>
/// A field's type: its kind, the element type of a list, and the declared name of a struct, enum
/// or interface (used when the shape is written out as schema text).
/// </summary>
public sealed record CapnpFieldType(CapnpTypeKind Kind, CapnpFieldType? Element = null, string? Name = null)
{
    /// <summary><c>Void</c>.</summary>
    public static CapnpFieldType Void { get; } = new(CapnpTypeKind.Void);

    /// <summary><c>Bool</c>.</summary>
    public static CapnpFieldType Bool { get; } = new(CapnpTypeKind.Bool);

    /// <summary><c>Int8</c>.</summary>
    public static CapnpFieldType Int8 { get; } = new(CapnpTypeKind.Int8);

    /// <summary><c>Int16</c>.</summary>
    public static CapnpFieldType Int16 { get; } = new(CapnpTypeKind.Int16);

    /// <summary><c>Int32</c>.</summary>
    public static CapnpFieldType Int32 { get; } = new(CapnpTypeKind.Int32);

    /// <summary><c>Int64</c>.</summary>
    public static CapnpFieldType Int64 { get; } = new(CapnpTypeKind.Int64);

    /// <summary><c>UInt8</c>.</summary>
    public static CapnpFieldType UInt8 { get; } = new(CapnpTypeKind.UInt8);

    /// <summary><c>UInt16</c>.</summary>
    public static CapnpFieldType UInt16 { get; } = new(CapnpTypeKind.UInt16);

    /// <summary><c>UInt32</c>.</summary>
    public static CapnpFieldType UInt32 { get; } = new(CapnpTypeKind.UInt32);

    /// <summary><c>UInt64</c>.</summary>
    public static CapnpFieldType UInt64 { get; } = new(CapnpTypeKind.UInt64);

    /// <summary><c>Float32</c>.</summary>
    public static CapnpFieldType Float32 { get; } = new(CapnpTypeKind.Float32);

    /// <summary><c>Float64</c>.</summary>
    public static CapnpFieldType Float64 { get; } = new(CapnpTypeKind.Float64);

    /// <summary><c>Text</c>.</summary>
    public static CapnpFieldType Text { get; } = new(CapnpTypeKind.Text);

    /// <summary><c>Data</c>.</summary>
    public static CapnpFieldType Data { get; } = new(CapnpTypeKind.Data);

    /// <summary><c>AnyPointer</c>.</summary>
    public static CapnpFieldType AnyPointer { get; } = new(CapnpTypeKind.AnyPointer);

    /// <summary><c>List(element)</c>.</summary>
    public static CapnpFieldType ListOf(CapnpFieldType element) => new(CapnpTypeKind.List, element);

    /// <summary>A struct type declared elsewhere under <paramref name="name"/>.</summary>
    public static CapnpFieldType StructNamed(string name) => new(CapnpTypeKind.Struct, Name: name);

    /// <summary>An enum type declared elsewhere under <paramref name="name"/>.</summary>
    public static CapnpFieldType EnumNamed(string name) => new(CapnpTypeKind.Enum, Name: name);

    /// <summary>An interface type declared elsewhere under <paramref name="name"/>.</summary>
    public static CapnpFieldType InterfaceNamed(string name) => new(CapnpTypeKind.Interface, Name: name);

    /// <summary>True when the field is stored in the pointer section.</summary>
    public bool IsPointer => Kind >= CapnpTypeKind.Text;

    /// <summary>Log2 of the field's size in bits for data fields; -1 for Void; -2 for pointers.</summary>
    public int LgBits => Kind switch
    {
        CapnpTypeKind.Void => -1,
        CapnpTypeKind.Bool => 0,
        CapnpTypeKind.Int8 or CapnpTypeKind.UInt8 => 3,
        CapnpTypeKind.Int16 or CapnpTypeKind.UInt16 or CapnpTypeKind.Enum => 4,
        CapnpTypeKind.Int32 or CapnpTypeKind.UInt32 or CapnpTypeKind.Float32 => 5,
        CapnpTypeKind.Int64 or CapnpTypeKind.UInt64 or CapnpTypeKind.Float64 => 6,
        _ => -2,
    };

    /// <summary>The type as schema text: <c>UInt32</c>, <c>List(Text)</c>, <c>MyStruct</c>.</summary>
    public override string ToString() => Kind switch
    {
        CapnpTypeKind.List => $"List({Element})",
        CapnpTypeKind.Struct or CapnpTypeKind.Enum or CapnpTypeKind.Interface => Name ?? throw new InvalidOperationException($"A {Kind} type needs a name."),
        _ => Kind.ToString(),
    };
}
