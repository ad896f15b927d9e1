using System.Reflection;

namespace RpcGen.Capnp;

/// <summary>
/// Carries the whole contract of an assembly as one <c>.capnp</c> schema: every <c>[RpcService]</c>
/// with a Cap'n Proto binding, the structs and enums they reach, <c>extends</c> for inherited services.
/// The generator adds it to every assembly that has services and references the capability transport;
/// <c>rpcgen capnp export</c> reads it without loading the assembly, <see cref="Of"/> from a loaded one.
/// </summary>
[AttributeUsage(AttributeTargets.Assembly, AllowMultiple = false)]
public sealed class CapnpContractSchemaAttribute : Attribute
{
    /// <summary>Carries <paramref name="schema"/>. Applied by generated code.</summary>
    public CapnpContractSchemaAttribute(string schema)
    {
        ArgumentNullException.ThrowIfNull(schema);
        Schema = schema;
    }

    /// <summary>The schema text, which <c>capnp compile</c> accepts.</summary>
    public string Schema { get; }

    /// <summary>The contract schema of <paramref name="assembly"/>, or null when it has no Cap'n Proto services.</summary>
    public static string? Of(Assembly assembly)
    {
        ArgumentNullException.ThrowIfNull(assembly);
        return assembly.GetCustomAttribute<CapnpContractSchemaAttribute>()?.Schema;
    }
}
