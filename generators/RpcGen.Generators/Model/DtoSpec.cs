namespace RpcGen.Generators.Model;

/// <summary>How a DTO is written and rebuilt.</summary>
/// <param name="Members">The serialized members, ordered by wire position.</param>
/// <param name="ConstructorArguments">The members passed to the chosen constructor, in parameter order (by <see cref="MemberSpec.Name"/>).</param>
/// <param name="ConstructedType">The type named after <c>new</c> when it differs from the key: a value tuple's <c>global::System.ValueTuple&lt;…&gt;</c>, since C# has no <c>new (int, string)(…)</c>.</param>
internal sealed record DtoSpec(EquatableArray<MemberSpec> Members, EquatableArray<string> ConstructorArguments, string? ConstructedType = null)
{
    /// <summary>The length of the serialized array: one past the highest position.</summary>
    public int Length => Members.Count == 0 ? 0 : Members[Members.Count - 1].Position + 1;
}
