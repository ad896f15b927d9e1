namespace RpcGen.Capnp;

/// <summary>The element size field of a list pointer (the 3-bit <c>C</c> field of the encoding spec).</summary>
public enum ElementSize : byte
{
    /// <summary>Zero bits per element: <c>List(Void)</c>.</summary>
    Empty = 0,

    /// <summary>One bit per element: <c>List(Bool)</c>.</summary>
    Bit = 1,

    /// <summary>One byte per element.</summary>
    Byte = 2,

    /// <summary>Two bytes per element.</summary>
    TwoBytes = 3,

    /// <summary>Four bytes per element.</summary>
    FourBytes = 4,

    /// <summary>Eight bytes per element, not a pointer.</summary>
    EightBytes = 5,

    /// <summary>One pointer per element.</summary>
    Pointer = 6,

    /// <summary>Structs, with a tag word giving each element's size.</summary>
    InlineComposite = 7,
}
