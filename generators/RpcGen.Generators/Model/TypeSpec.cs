using RpcGen.Generators.Shared;

namespace RpcGen.Generators.Model;

/// <summary>A type reachable from a service's signatures, and how to format it.</summary>
/// <param name="Key">The type, fully qualified without nullable reference annotations (<c>global::Acme.Item</c>, <c>int?</c>, <c>global::System.Collections.Generic.List&lt;string&gt;</c>); identifies the spec.</param>
/// <param name="Shape">How the type travels.</param>
/// <param name="Identifier">A C# identifier unique within the service: the formatter is <c>{Identifier}Formatter</c> for enums, DTOs and polymorphic bases, and a field <c>{Identifier}</c> for composed formatters; for builtins it names the runtime formatter (<c>Int32</c> for <c>Int32Formatter</c>).</param>
/// <param name="IsValueType">Whether the type is a value type.</param>
/// <param name="Arguments">The keys of the element type (nullable, array, list) or of the key and value types (dictionary).</param>
/// <param name="IsConcreteCollection">For lists and dictionaries: whether the type is <c>List&lt;T&gt;</c>/<c>Dictionary&lt;K,V&gt;</c> itself rather than one of their interfaces.</param>
/// <param name="EnumUnderlyingType">For enums: the underlying integer type keyword (<c>int</c>, <c>byte</c>…).</param>
/// <param name="Dto">For DTOs, and for polymorphic bases that are concrete classes: the members and construction.</param>
/// <param name="KnownTypes">For polymorphic bases: the subtypes with their tags, in declaration order.</param>
/// <param name="CapnpId">For services: their Cap'n Proto interface id; for DTOs, bases and enums: the id pinned by <c>[RpcTypeId]</c>, else 0.</param>
/// <param name="UnsupportedReason">For an unsupported type (<see cref="TypeShape.Unsupported"/>): why; its formatter fails every call that carries one with this reason, and the analyzers report it at build time.</param>
/// <param name="Factory">For collections the runtime writes through <c>SequenceFormatter</c> or <c>MapFormatter</c> (sets, queues, stacks, immutable and concurrent collections…): the expression that rebuilds one from <c>items</c> or <c>map</c>; null otherwise.</param>
/// <param name="UserFormatter">For <see cref="TypeShape.UserFormatted"/>: the formatter type, fully qualified.</param>
/// <param name="FormattedType">For a formatter named on one DTO member: the member's type (the key then also names the formatter, so that member gets its own); null when the key is the type.</param>
/// <param name="EnumMembers">For enums whose values are exactly 0, 1, 2…: the member names in value order (the enumerants of a Cap'n Proto enum); otherwise empty.</param>
/// <param name="ContainingType">For services, DTOs, bases and enums nested in another type: that type's key, else null.</param>
internal sealed record TypeSpec(
    string Key,
    TypeShape Shape,
    string Identifier,
    bool IsValueType,
    EquatableArray<string> Arguments,
    bool IsConcreteCollection,
    string? EnumUnderlyingType,
    DtoSpec? Dto,
    EquatableArray<KnownTypeSpec> KnownTypes,
    EquatableArray<string> EnumMembers = default,
    ulong CapnpId = 0,
    string? UnsupportedReason = null,
    string? Factory = null,
    string? UserFormatter = null,
    string? FormattedType = null,
    string? ContainingType = null);
