namespace RpcGen.Generators.Model;

/// <summary>How a deserialized member value gets into the rebuilt object.</summary>
internal enum MemberAssignment
{
    /// <summary>As an argument of the chosen constructor.</summary>
    Constructor,

    /// <summary>In the object initializer (init-only or <c>required</c>): always assigned, the type's default when absent.</summary>
    Initializer,

    /// <summary>Through its setter after construction, only when the payload holds it, so a property initializer's default survives an older peer's shorter payload.</summary>
    Setter,
}

/// <summary>One serialized member of a DTO.</summary>
/// <param name="Name">The property or field name (escaped if it is a keyword).</param>
/// <param name="Type">The declared type, fully qualified with nullable annotations.</param>
/// <param name="TypeKey">The <see cref="TypeSpec.Key"/> of the type.</param>
/// <param name="IsValueType">Whether the type is a value type.</param>
/// <param name="Position">The index in the serialized array.</param>
/// <param name="Assignment">How the read value is assigned.</param>
internal sealed record MemberSpec(string Name, string Type, string TypeKey, bool IsValueType, int Position, MemberAssignment Assignment);
