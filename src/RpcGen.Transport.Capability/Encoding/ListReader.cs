using System.Buffers.Binary;

namespace RpcGen.Capnp;

/// <summary>
/// A list being read. Element accessors check the index and read at the element's start, so a
/// struct list read as a primitive list yields each element's first data field. The default value
/// is an empty list.
/// </summary>
public readonly struct ListReader
{
    private readonly CapnpMessage? _message;
    private readonly int _segment;
    private readonly int _startByte;
    private readonly int _count;
    private readonly long _stepBits;
    private readonly int _dataBits;
    private readonly ushort _pointerCount;
    private readonly ElementSize _elementSize;
    private readonly int _nestingLimit;

    internal ListReader(CapnpMessage message, int segment, int startByte, int count, long stepBits, int dataBits, ushort pointerCount, ElementSize elementSize, int nestingLimit)
    {
        _message = message;
        _segment = segment;
        _startByte = startByte;
        _count = count;
        _stepBits = stepBits;
        _dataBits = dataBits;
        _pointerCount = pointerCount;
        _elementSize = elementSize;
        _nestingLimit = nestingLimit;
    }

    /// <summary>The message this list lives in; null for the default (empty) list.</summary>
    public CapnpMessage? Message => _message;

    /// <summary>Number of elements.</summary>
    public int Count => _count;

    /// <summary>The element size the list was encoded with.</summary>
    public ElementSize ElementSize => _elementSize;

    /// <summary>Data bits in each element.</summary>
    public int DataBitsPerElement => _dataBits;

    /// <summary>Pointers in each element.</summary>
    public int PointersPerElement => _pointerCount;

    /// <summary>Reads a Bool element.</summary>
    public bool GetBool(int index)
    {
        var bit = BitOf(index);
        if (_dataBits < 1)
        {
            return false;
        }

        return ((_message!.Segment(_segment)[_startByte + (int)(bit >> 3)] >> (int)(bit & 7)) & 1) != 0;
    }

    /// <summary>Reads a UInt8 element.</summary>
    public byte GetUInt8(int index) => _dataBits >= 8 ? _message!.Segment(_segment)[ByteOf(index)] : (byte)0;

    /// <summary>Reads an Int8 element.</summary>
    public sbyte GetInt8(int index) => (sbyte)GetUInt8(index);

    /// <summary>Reads a UInt16 element.</summary>
    public ushort GetUInt16(int index) =>
        _dataBits >= 16 ? BinaryPrimitives.ReadUInt16LittleEndian(_message!.Segment(_segment).Slice(ByteOf(index), 2)) : (ushort)0;

    /// <summary>Reads an Int16 element.</summary>
    public short GetInt16(int index) => (short)GetUInt16(index);

    /// <summary>Reads a UInt32 element.</summary>
    public uint GetUInt32(int index) =>
        _dataBits >= 32 ? BinaryPrimitives.ReadUInt32LittleEndian(_message!.Segment(_segment).Slice(ByteOf(index), 4)) : 0u;

    /// <summary>Reads an Int32 element.</summary>
    public int GetInt32(int index) => (int)GetUInt32(index);

    /// <summary>Reads a UInt64 element.</summary>
    public ulong GetUInt64(int index) =>
        _dataBits >= 64 ? BinaryPrimitives.ReadUInt64LittleEndian(_message!.Segment(_segment).Slice(ByteOf(index), 8)) : 0ul;

    /// <summary>Reads an Int64 element.</summary>
    public long GetInt64(int index) => (long)GetUInt64(index);

    /// <summary>Reads a Float32 element.</summary>
    public float GetFloat32(int index) => BitConverter.UInt32BitsToSingle(GetUInt32(index));

    /// <summary>Reads a Float64 element.</summary>
    public double GetFloat64(int index) => BitConverter.UInt64BitsToDouble(GetUInt64(index));

    /// <summary>Reads a struct element (of a struct list, or of a primitive or pointer list read as structs).</summary>
    public StructReader GetStruct(int index)
    {
        var start = ByteOf(index);
        if (_elementSize == ElementSize.Bit)
        {
            throw new CapnpDecodeException("A list of Bool cannot be read as a list of structs.");
        }

        var pointerByte = start + (_dataBits >> 3);
        return new StructReader(_message!, _segment, start, _dataBits, pointerByte >> 3, _pointerCount, _nestingLimit);
    }

    /// <summary>Reads a pointer element (of a pointer list, or the first pointer of each struct).</summary>
    public PointerReader GetPointer(int index)
    {
        var start = ByteOf(index);
        if (_pointerCount == 0)
        {
            return default;
        }

        return new PointerReader(_message!, _segment, (start + (_dataBits >> 3)) >> 3, _nestingLimit);
    }

    /// <summary>Reads a text element of a <c>List(Text)</c>.</summary>
    public string? GetText(int index, string? defaultValue = "") => GetPointer(index).GetText(defaultValue);

    /// <summary>Reads a data element of a <c>List(Data)</c>.</summary>
    public ReadOnlyMemory<byte> GetData(int index) => GetPointer(index).GetData();

    /// <summary>Reads a list element of a <c>List(List(...))</c>.</summary>
    public ListReader GetList(int index, ElementSize expected) => GetPointer(index).GetList(expected);

    /// <summary>The elements as structs.</summary>
    public IEnumerable<StructReader> Structs()
    {
        for (var i = 0; i < _count; i++)
        {
            yield return GetStruct(i);
        }
    }

    /// <summary>The bytes of a byte list (text or data).</summary>
    internal ReadOnlyMemory<byte> RawBytes() => _message!.GetSegment(_segment).Slice(_startByte, _count);

    internal int Segment => _segment;

    internal int StartByte => _startByte;

    internal long StepBits => _stepBits;

    private long BitOf(int index)
    {
        if ((uint)index >= (uint)_count)
        {
            throw new ArgumentOutOfRangeException(nameof(index), index, $"The list has {_count} elements.");
        }

        return index * _stepBits;
    }

    private int ByteOf(int index) => _startByte + (int)(BitOf(index) >> 3);
}
