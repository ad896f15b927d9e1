using System.Buffers.Binary;

namespace RpcGen.Capnp;

/// <summary>A list being written.</summary>
public readonly struct ListBuilder
{
    private readonly CapnpMessageBuilder _builder;
    private readonly int _segment;
    private readonly int _startByte;
    private readonly int _count;
    private readonly long _stepBits;
    private readonly int _dataBits;
    private readonly ushort _pointerCount;
    private readonly ElementSize _elementSize;

    internal ListBuilder(CapnpMessageBuilder builder, int segment, int startByte, int count, long stepBits, int dataBits, ushort pointerCount, ElementSize elementSize)
    {
        _builder = builder;
        _segment = segment;
        _startByte = startByte;
        _count = count;
        _stepBits = stepBits;
        _dataBits = dataBits;
        _pointerCount = pointerCount;
        _elementSize = elementSize;
    }

    /// <summary>Number of elements.</summary>
    public int Count => _count;

    /// <summary>The element size.</summary>
    public ElementSize ElementSize => _elementSize;

    /// <summary>Writes a Bool element.</summary>
    public void SetBool(int index, bool value)
    {
        RequireData(1);
        var bit = BitOf(index);
        ref var b = ref Span()[_startByte + (int)(bit >> 3)];
        var mask = (byte)(1 << (int)(bit & 7));
        b = value ? (byte)(b | mask) : (byte)(b & ~mask);
    }

    /// <summary>Writes a UInt8 element.</summary>
    public void SetUInt8(int index, byte value)
    {
        RequireData(8);
        Span()[ByteOf(index)] = value;
    }

    /// <summary>Writes an Int8 element.</summary>
    public void SetInt8(int index, sbyte value) => SetUInt8(index, (byte)value);

    /// <summary>Writes a UInt16 element.</summary>
    public void SetUInt16(int index, ushort value)
    {
        RequireData(16);
        BinaryPrimitives.WriteUInt16LittleEndian(Span().Slice(ByteOf(index), 2), value);
    }

    /// <summary>Writes an Int16 element.</summary>
    public void SetInt16(int index, short value) => SetUInt16(index, (ushort)value);

    /// <summary>Writes a UInt32 element.</summary>
    public void SetUInt32(int index, uint value)
    {
        RequireData(32);
        BinaryPrimitives.WriteUInt32LittleEndian(Span().Slice(ByteOf(index), 4), value);
    }

    /// <summary>Writes an Int32 element.</summary>
    public void SetInt32(int index, int value) => SetUInt32(index, (uint)value);

    /// <summary>Writes a UInt64 element.</summary>
    public void SetUInt64(int index, ulong value)
    {
        RequireData(64);
        BinaryPrimitives.WriteUInt64LittleEndian(Span().Slice(ByteOf(index), 8), value);
    }

    /// <summary>Writes an Int64 element.</summary>
    public void SetInt64(int index, long value) => SetUInt64(index, (ulong)value);

    /// <summary>Writes a Float32 element.</summary>
    public void SetFloat32(int index, float value) => SetUInt32(index, BitConverter.SingleToUInt32Bits(value));

    /// <summary>Writes a Float64 element.</summary>
    public void SetFloat64(int index, double value) => SetUInt64(index, BitConverter.DoubleToUInt64Bits(value));

    /// <summary>The struct element at <paramref name="index"/> of a struct list.</summary>
    public StructBuilder GetStruct(int index)
    {
        if (_elementSize != ElementSize.InlineComposite)
        {
            throw new InvalidOperationException("Only a struct list has struct elements.");
        }

        var start = ByteOf(index);
        var dataWords = (ushort)(_dataBits / 64);
        return new StructBuilder(_builder, _segment, start, dataWords, (start >> 3) + dataWords, _pointerCount);
    }

    /// <summary>The pointer element at <paramref name="index"/> of a pointer list.</summary>
    public PointerBuilder GetPointer(int index)
    {
        if (_elementSize != ElementSize.Pointer)
        {
            throw new InvalidOperationException("Only a pointer list has pointer elements.");
        }

        return new PointerBuilder(_builder, _segment, ByteOf(index) >> 3);
    }

    /// <summary>Writes a text element of a <c>List(Text)</c>.</summary>
    public void SetText(int index, string? text) => GetPointer(index).SetText(text);

    /// <summary>Writes a data element of a <c>List(Data)</c>.</summary>
    public void SetData(int index, ReadOnlySpan<byte> data) => GetPointer(index).SetData(data);

    internal Span<byte> RawSpan() => Span().Slice(_startByte, (int)(((_count * _stepBits) + 7) / 8));

    private Span<byte> Span() => _builder.SegmentSpan(_segment);

    private void RequireData(int bits)
    {
        if (_dataBits < bits || (bits == 1) != (_dataBits == 1))
        {
            throw new InvalidOperationException($"The list's elements are {_elementSize}, not {bits}-bit values.");
        }
    }

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
