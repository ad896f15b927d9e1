using System.Collections.Generic;

namespace RpcGen.Capnp;

/// <summary>
/// A struct as the schema language declares it: named members in code order, each a field with an
/// ordinal, a group, or a union. The layout depends on ordinals and types only; code order matters
/// for schema text and nothing else.
/// </summary>
/// <param name="Name">The struct's name.</param>
/// <param name="Members">The members in code order. At most one unnamed union.</param>
/// <param name="Id">The 64-bit type id, when fixed; the schema compiler derives one from the name otherwise.</param>
public sealed record StructShape(string Name, IReadOnlyList<StructMember> Members, ulong? Id = null);

/// <summary>A member of a struct, group or union.</summary>
public abstract record StructMember(string Name);

/// <summary>A field: <c>name @ordinal :Type [= default]</c>.</summary>
/// <param name="Name">Field name.</param>
/// <param name="Ordinal">The <c>@N</c> number; together the fields of a struct number 0..n-1.</param>
/// <param name="Type">The field's type.</param>
/// <param name="DefaultValue">The default as schema text (<c>42</c>, <c>true</c>, <c>"x"</c>), or null.</param>
public sealed record FieldShape(string Name, int Ordinal, CapnpFieldType Type, string? DefaultValue = null) : StructMember(Name);

/// <summary>A group: <c>name :group { ... }</c>. Its members are laid out as if they were the parent's.</summary>
public sealed record GroupShape(string Name, IReadOnlyList<StructMember> Members) : StructMember(Name);

/// <summary>
/// A union: unnamed (<see cref="StructMember.Name"/> empty, at most one per scope) or named
/// (<c>name :union { ... }</c>). Needs at least two members. <paramref name="Ordinal"/> is the legacy
/// explicit union number (<c>name @N! :union</c>), which decides when the discriminant is allocated.
/// </summary>
public sealed record UnionShape(string Name, IReadOnlyList<StructMember> Members, int? Ordinal = null) : StructMember(Name);

/// <summary>An enum: enumerants numbered in order.</summary>
public sealed record EnumShape(string Name, IReadOnlyList<string> Enumerants, ulong? Id = null);

/// <summary>An interface: methods with parameter and result lists.</summary>
/// <param name="Name">The interface's name.</param>
/// <param name="Methods">Its own methods (not those it inherits).</param>
/// <param name="Id">The 64-bit interface id, when fixed.</param>
/// <param name="Extends">The names of the interfaces it inherits methods from (<c>extends(A, B)</c>), or null for none.</param>
public sealed record InterfaceShape(string Name, IReadOnlyList<MethodShape> Methods, ulong? Id = null, IReadOnlyList<string>? Extends = null);

/// <summary>
/// A method <c>name @ordinal (params) -&gt; (results)</c>; parameter and result fields take ordinals by position.
/// <paramref name="Streams"/> makes it a streaming method, <c>name @ordinal (params) -&gt; stream</c>, whose
/// results are <c>stream.capnp</c>'s empty <c>StreamResult</c> (<paramref name="Results"/> is then ignored).
/// </summary>
public sealed record MethodShape(string Name, int Ordinal, IReadOnlyList<(string Name, CapnpFieldType Type)> Parameters, IReadOnlyList<(string Name, CapnpFieldType Type)> Results, bool Streams = false);

/// <summary>A declaration of a schema file and the declarations nested in it (<c>struct Outer { struct Inner { … } }</c>).</summary>
/// <param name="Shape">A <see cref="StructShape"/>, an <see cref="EnumShape"/> or an <see cref="InterfaceShape"/>.</param>
/// <param name="Nested">The declarations nested in it, written after its own members; null for none.</param>
public sealed record SchemaDeclaration(object Shape, IReadOnlyList<SchemaDeclaration>? Nested = null);
