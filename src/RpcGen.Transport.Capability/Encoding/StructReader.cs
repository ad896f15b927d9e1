using System.Buffers.Binary;

namespace RpcGen.Capnp;

/// <summary>
/// A struct being read. Data fields are addressed like the schema compiler's <c>slot.offset</c>:
/// in units of the field's own size (bit index for Bool, byte index for 8-bit fields, and so on).
/// Fields beyond the struct's data or pointer section read as their default, which is how old and
/// new schema versions interoperate. Data fields are stored XOR their default, so every getter takes
/// the field's default value. The default value of this type is a struct with every field default.
/// </summary>
public readonly struct StructReader
{
    private readonly CapnpMessage? _message;
    private readonly int _segment;
    private readonly int _dataByte;
    private readonly int _dataBits;
    private readonly int _pointerWord;
    private readonly ushort _pointerCount;
    private readonly int _nestingLimit;

    internal StructReader(CapnpMessage message, int segment, int dataByte, int dataBits, int pointerWord, ushort pointerCount, int nestingLimit)
    {
        _message = message;
        _segment = segment;
        _dataByte = dataByte;
        _dataBits = dataBits;
        _pointerWord = pointerWord;
        _pointerCount = pointerCount;
        _nestingLimit = nestingLimit;
    }

    /// <summary>The message this struct lives in; null for a default struct.</summary>
    public CapnpMessage? Message => _message;

    /// <summary>Size of the data section in bits (a multiple of 64 except for list elements read as structs).</summary>
    public int DataBits => _dataBits;

    /// <summary>Size of the data section in whole words, rounded up.</summary>
    public int DataWords => (_dataBits + 63) / 64;

    /// <summary>Number of pointers in the pointer section.</summary>
    public int PointerCount => _pointerCount;

    internal int Segment => _segment;

    internal int DataByte => _dataByte;

    internal int PointerWord => _pointerWord;

    /// <summary>Reads a Bool field at bit <paramref name="bitOffset"/>.</summary>
    public bool ReadBool(int bitOffset, bool defaultValue = false)
    {
        if ((uint)bitOffset >= (uint)_dataBits)
        {
            return defaultValue;
        }

        var b = _message!.Segment(_segment)[_dataByte + (bitOffset >> 3)];
        return (((b >> (bitOffset & 7)) & 1) != 0) ^ defaultValue;
    }

    /// <summary>Reads a UInt8 field.</summary>
    public byte ReadUInt8(int offset, byte defaultValue = 0) =>
        InData(offset, 8) ? (byte)(_message!.Segment(_segment)[_dataByte + offset] ^ defaultValue) : defaultValue;

    /// <summary>Reads an Int8 field.</summary>
    public sbyte ReadInt8(int offset, sbyte defaultValue = 0) => (sbyte)ReadUInt8(offset, (byte)defaultValue);

    /// <summary>Reads a UInt16 field (also enums and union discriminants).</summary>
    public ushort ReadUInt16(int offset, ushort defaultValue = 0) =>
        InData(offset, 16)
            ? (ushort)(BinaryPrimitives.ReadUInt16LittleEndian(_message!.Segment(_segment).Slice(_dataByte + (offset * 2), 2)) ^ defaultValue)
            : defaultValue;

    /// <summary>Reads an Int16 field.</summary>
    public short ReadInt16(int offset, short defaultValue = 0) => (short)ReadUInt16(offset, (ushort)defaultValue);

    /// <summary>Reads a UInt32 field.</summary>
    public uint ReadUInt32(int offset, uint defaultValue = 0) =>
        InData(offset, 32)
            ? BinaryPrimitives.ReadUInt32LittleEndian(_message!.Segment(_segment).Slice(_dataByte + (offset * 4), 4)) ^ defaultValue
            : defaultValue;

    /// <summary>Reads an Int32 field.</summary>
    public int ReadInt32(int offset, int defaultValue = 0) => (int)ReadUInt32(offset, (uint)defaultValue);

    /// <summary>Reads a UInt64 field.</summary>
    public ulong ReadUInt64(int offset, ulong defaultValue = 0) =>
        InData(offset, 64)
            ? BinaryPrimitives.ReadUInt64LittleEndian(_message!.Segment(_segment).Slice(_dataByte + (offset * 8), 8)) ^ defaultValue
            : defaultValue;

    /// <summary>Reads an Int64 field.</summary>
    public long ReadInt64(int offset, long defaultValue = 0) => (long)ReadUInt64(offset, (ulong)defaultValue);

    /// <summary>Reads a Float32 field; the default is XORed bitwise, as the encoding defines.</summary>
    public float ReadFloat32(int offset, float defaultValue = 0) =>
        BitConverter.UInt32BitsToSingle(ReadUInt32(offset, BitConverter.SingleToUInt32Bits(defaultValue)));

    /// <summary>Reads a Float64 field.</summary>
    public double ReadFloat64(int offset, double defaultValue = 0) =>
        BitConverter.UInt64BitsToDouble(ReadUInt64(offset, BitConverter.DoubleToUInt64Bits(defaultValue)));

    /// <summary>The pointer at <paramref name="index"/> in the pointer section; null beyond its end.</summary>
    public PointerReader GetPointer(int index)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(index);
        return index < _pointerCount ? new PointerReader(_message!, _segment, _pointerWord + index, _nestingLimit) : default;
    }

    /// <summary>True when the pointer at <paramref name="index"/> is not null.</summary>
    public bool HasPointer(int index) => !GetPointer(index).IsNull;

    /// <summary>Reads the struct at pointer <paramref name="index"/>.</summary>
    public StructReader ReadStruct(int index) => GetPointer(index).GetStruct();

    /// <summary>Reads the list at pointer <paramref name="index"/>; see <see cref="PointerReader.GetList"/>.</summary>
    public ListReader ReadList(int index, ElementSize expected) => GetPointer(index).GetList(expected);

    /// <summary>Reads the text at pointer <paramref name="index"/>.</summary>
    public string? ReadText(int index, string? defaultValue = "") => GetPointer(index).GetText(defaultValue);

    /// <summary>Reads the data at pointer <paramref name="index"/>.</summary>
    public ReadOnlyMemory<byte> ReadData(int index) => GetPointer(index).GetData();

    /// <summary>Reads the capability at pointer <paramref name="index"/> as a new reference the caller must dispose; null when the pointer is null.</summary>
    public Capability? ReadCapability(int index) => GetPointer(index).GetCapability();

    private bool InData(int offset, int bits) => offset >= 0 && ((long)offset + 1) * bits <= _dataBits;
}
