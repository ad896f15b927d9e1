namespace RpcGen.Generators.Model;

/// <summary>One serialized member of a DTO.</summary>
/// <param name="Name">The property or field name (escaped if it is a keyword).</param>
/// <param name="Type">The declared type, fully qualified with nullable annotations.</param>
/// <param name="TypeKey">The <see cref="TypeSpec.Key"/> of the type.</param>
/// <param name="IsValueType">Whether the type is a value type.</param>
/// <param name="Position">The index in the serialized array.</param>
/// <param name="InInitializer">Whether the member is assigned in the object initializer (it is settable or init-only and not a constructor argument, or it is <c>required</c>).</param>
internal sealed record MemberSpec(string Name, string Type, string TypeKey, bool IsValueType, int Position, bool InInitializer);
