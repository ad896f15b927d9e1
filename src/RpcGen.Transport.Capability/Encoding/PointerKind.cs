namespace RpcGen.Capnp;

/// <summary>What a pointer points at, after far pointers are followed.</summary>
public enum PointerKind
{
    /// <summary>The all-zero pointer.</summary>
    Null,

    /// <summary>A struct.</summary>
    Struct,

    /// <summary>A list (including text and data).</summary>
    List,

    /// <summary>A capability: an index into the message's capability table.</summary>
    Capability,
}
