namespace RpcGen.Generators.Model;

/// <summary>One parameter that travels in a request envelope.</summary>
/// <param name="Name">The parameter name as declared (escaped if it is a keyword).</param>
/// <param name="FieldName">The envelope field: the name in PascalCase.</param>
/// <param name="Type">The declared type, fully qualified with nullable annotations.</param>
/// <param name="TypeKey">The <see cref="TypeSpec.Key"/> of the type.</param>
/// <param name="IsValueType">Whether the type is a value type.</param>
internal sealed record ParameterSpec(string Name, string FieldName, string Type, string TypeKey, bool IsValueType);
