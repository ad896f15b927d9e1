using System;

namespace RpcGen;

/// <summary>Excludes a DTO property or field from serialization.</summary>
[AttributeUsage(AttributeTargets.Property | AttributeTargets.Field, AllowMultiple = false, Inherited = true)]
public sealed class RpcIgnoreAttribute : Attribute
{
}
