namespace RpcGen.Capnp;

/// <summary>
/// Bit twiddling for the 64-bit pointer word. Layout (lsb first): 2 bits kind, 30 bits signed offset
/// (struct, list) or landing pad position (far, 29 bits after a 1-bit double-far flag), then 32 bits
/// of kind-specific data.
/// </summary>
internal static class WirePointer
{
    public const int StructKind = 0;
    public const int ListKind = 1;
    public const int FarKind = 2;
    public const int OtherKind = 3;

    /// <summary>Largest element count a non-composite list can declare (29 bits).</summary>
    public const int MaxListElements = (1 << 29) - 1;

    public static int Kind(ulong word) => (int)(word & 3);

    /// <summary>The signed 30-bit word offset of a struct or list pointer.</summary>
    public static int Offset(ulong word) => (int)(uint)word >> 2;

    public static ushort StructDataWords(ulong word) => (ushort)(word >> 32);

    public static ushort StructPointerCount(ulong word) => (ushort)(word >> 48);

    public static ElementSize ListElementSize(ulong word) => (ElementSize)((word >> 32) & 7);

    public static int ListElementCount(ulong word) => (int)(word >> 35);

    public static bool FarIsDouble(ulong word) => (word & 4) != 0;

    public static int FarPadOffset(ulong word) => (int)((uint)word >> 3);

    public static uint FarSegment(ulong word) => (uint)(word >> 32);

    public static ulong Struct(int offset, ushort dataWords, ushort pointerCount) =>
        ((uint)(offset << 2) | (ulong)StructKind) | ((ulong)dataWords << 32) | ((ulong)pointerCount << 48);

    public static ulong List(int offset, ElementSize size, int countOrWords) =>
        ((uint)(offset << 2) | (ulong)ListKind) | ((ulong)size << 32) | ((ulong)(uint)countOrWords << 35);

    public static ulong Far(bool isDouble, int padOffset, int segment) =>
        (uint)(padOffset << 3) | (isDouble ? 4u : 0u) | FarKind | ((ulong)(uint)segment << 32);

    public static ulong Capability(uint index) => OtherKind | ((ulong)index << 32);

    /// <summary>Bits per element for the non-composite sizes; composite and pointer lists are handled by callers.</summary>
    public static int DataBitsPerElement(ElementSize size) => size switch
    {
        ElementSize.Empty => 0,
        ElementSize.Bit => 1,
        ElementSize.Byte => 8,
        ElementSize.TwoBytes => 16,
        ElementSize.FourBytes => 32,
        ElementSize.EightBytes => 64,
        _ => 0,
    };

    public static int PointersPerElement(ElementSize size) => size == ElementSize.Pointer ? 1 : 0;

    /// <summary>Words needed for <paramref name="count"/> elements of a non-composite size.</summary>
    public static long WordsFor(ElementSize size, long count) => size == ElementSize.Pointer
        ? count
        : ((count * DataBitsPerElement(size)) + 63) / 64;
}
