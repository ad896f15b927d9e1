using System;

namespace RpcGen;

/// <summary>
/// Names a formatter for a type RpcGen does not format itself: a class implementing
/// <c>RpcGen.Serialization.IRpcFormatter&lt;T&gt;</c> with a public parameterless constructor. On a DTO
/// property or field it formats that member; on a class, struct, enum or interface it formats that type
/// wherever a contract uses it; on the assembly it formats the <c>T</c> the formatter implements, in every
/// contract of the assembly. The member's attribute wins over the type's, and the type's over the
/// assembly's. Generated code creates the formatter with <c>new()</c>, so no reflection is involved.
/// </summary>
/// <example>
/// <code>
/// [assembly: RpcUseFormatter(typeof(ColorFormatter))]                 // every System.Drawing.Color
/// public sealed class Label { [RpcUseFormatter(typeof(UpperCaseFormatter))] public string Text { get; set; } = ""; }
/// </code>
/// </example>
[AttributeUsage(
    AttributeTargets.Property | AttributeTargets.Field | AttributeTargets.Class | AttributeTargets.Struct |
    AttributeTargets.Enum | AttributeTargets.Interface | AttributeTargets.Assembly,
    AllowMultiple = true,
    Inherited = false)]
public sealed class RpcUseFormatterAttribute : Attribute
{
    /// <summary>Names <paramref name="formatterType"/> as the formatter.</summary>
    /// <param name="formatterType">A class implementing <c>IRpcFormatter&lt;T&gt;</c> with a public parameterless constructor.</param>
    public RpcUseFormatterAttribute(Type formatterType) => FormatterType = formatterType;

    /// <summary>The formatter type.</summary>
    public Type FormatterType { get; }
}
