using System;

namespace RpcGen.Capnp;

/// <summary>A struct shape that the schema compiler would reject (bad ordinals, tiny unions, empty groups, or the layout corner case of capnp issue 344).</summary>
public sealed class CapnpLayoutException : Exception
{
    /// <summary>Creates the exception.</summary>
    public CapnpLayoutException(string message)
        : base(message)
    {
    }
}
