namespace RpcGen.Generators.Model;

/// <summary>A subtype of a polymorphic base and its wire tag.</summary>
internal sealed record KnownTypeSpec(int Tag, string TypeKey);
