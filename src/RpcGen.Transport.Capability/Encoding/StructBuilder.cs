using System.Buffers.Binary;

namespace RpcGen.Capnp;

/// <summary>
/// A struct being written. Offsets are in units of the field's size, as in <see cref="StructReader"/>;
/// each setter takes the field's default value, because data is stored XOR the default.
/// </summary>
public readonly struct StructBuilder
{
    private readonly CapnpMessageBuilder _builder;
    private readonly int _segment;
    private readonly int _dataByte;
    private readonly ushort _dataWords;
    private readonly int _pointerWord;
    private readonly ushort _pointerCount;

    internal StructBuilder(CapnpMessageBuilder builder, int segment, int dataByte, ushort dataWords, int pointerWord, ushort pointerCount)
    {
        _builder = builder;
        _segment = segment;
        _dataByte = dataByte;
        _dataWords = dataWords;
        _pointerWord = pointerWord;
        _pointerCount = pointerCount;
    }

    /// <summary>The message being built.</summary>
    public CapnpMessageBuilder Builder => _builder;

    /// <summary>Data section size in words.</summary>
    public int DataWords => _dataWords;

    /// <summary>Pointer section size.</summary>
    public int PointerCount => _pointerCount;

    /// <summary>Writes a Bool field at bit <paramref name="bitOffset"/>.</summary>
    public void WriteBool(int bitOffset, bool value, bool defaultValue = false)
    {
        CheckData(bitOffset, 1);
        ref var b = ref DataSpan()[bitOffset >> 3];
        var mask = (byte)(1 << (bitOffset & 7));
        b = (value ^ defaultValue) ? (byte)(b | mask) : (byte)(b & ~mask);
    }

    /// <summary>Writes a UInt8 field.</summary>
    public void WriteUInt8(int offset, byte value, byte defaultValue = 0)
    {
        CheckData(offset, 8);
        DataSpan()[offset] = (byte)(value ^ defaultValue);
    }

    /// <summary>Writes an Int8 field.</summary>
    public void WriteInt8(int offset, sbyte value, sbyte defaultValue = 0) => WriteUInt8(offset, (byte)value, (byte)defaultValue);

    /// <summary>Writes a UInt16 field (also enums and union discriminants).</summary>
    public void WriteUInt16(int offset, ushort value, ushort defaultValue = 0)
    {
        CheckData(offset, 16);
        BinaryPrimitives.WriteUInt16LittleEndian(DataSpan().Slice(offset * 2, 2), (ushort)(value ^ defaultValue));
    }

    /// <summary>Writes an Int16 field.</summary>
    public void WriteInt16(int offset, short value, short defaultValue = 0) => WriteUInt16(offset, (ushort)value, (ushort)defaultValue);

    /// <summary>Writes a UInt32 field.</summary>
    public void WriteUInt32(int offset, uint value, uint defaultValue = 0)
    {
        CheckData(offset, 32);
        BinaryPrimitives.WriteUInt32LittleEndian(DataSpan().Slice(offset * 4, 4), value ^ defaultValue);
    }

    /// <summary>Writes an Int32 field.</summary>
    public void WriteInt32(int offset, int value, int defaultValue = 0) => WriteUInt32(offset, (uint)value, (uint)defaultValue);

    /// <summary>Writes a UInt64 field.</summary>
    public void WriteUInt64(int offset, ulong value, ulong defaultValue = 0)
    {
        CheckData(offset, 64);
        BinaryPrimitives.WriteUInt64LittleEndian(DataSpan().Slice(offset * 8, 8), value ^ defaultValue);
    }

    /// <summary>Writes an Int64 field.</summary>
    public void WriteInt64(int offset, long value, long defaultValue = 0) => WriteUInt64(offset, (ulong)value, (ulong)defaultValue);

    /// <summary>Writes a Float32 field.</summary>
    public void WriteFloat32(int offset, float value, float defaultValue = 0) =>
        WriteUInt32(offset, BitConverter.SingleToUInt32Bits(value), BitConverter.SingleToUInt32Bits(defaultValue));

    /// <summary>Writes a Float64 field.</summary>
    public void WriteFloat64(int offset, double value, double defaultValue = 0) =>
        WriteUInt64(offset, BitConverter.DoubleToUInt64Bits(value), BitConverter.DoubleToUInt64Bits(defaultValue));

    /// <summary>The pointer slot at <paramref name="index"/>.</summary>
    public PointerBuilder GetPointer(int index)
    {
        if ((uint)index >= _pointerCount)
        {
            throw new ArgumentOutOfRangeException(nameof(index), index, $"The struct has {_pointerCount} pointers.");
        }

        return new PointerBuilder(_builder, _segment, _pointerWord + index);
    }

    /// <summary>Initializes the struct at pointer <paramref name="index"/>.</summary>
    public StructBuilder InitStruct(int index, ushort dataWords, ushort pointerCount) => GetPointer(index).InitStruct(dataWords, pointerCount);

    /// <summary>Initializes a primitive or pointer list at pointer <paramref name="index"/>.</summary>
    public ListBuilder InitList(int index, ElementSize elementSize, int count) => GetPointer(index).InitList(elementSize, count);

    /// <summary>Initializes a struct list at pointer <paramref name="index"/>.</summary>
    public ListBuilder InitStructList(int index, int count, ushort dataWords, ushort pointerCount) => GetPointer(index).InitStructList(count, dataWords, pointerCount);

    /// <summary>Writes text at pointer <paramref name="index"/>.</summary>
    public void WriteText(int index, string? text) => GetPointer(index).SetText(text);

    /// <summary>Writes data at pointer <paramref name="index"/>.</summary>
    public void WriteData(int index, ReadOnlySpan<byte> data) => GetPointer(index).SetData(data);

    /// <summary>Writes a capability at pointer <paramref name="index"/>; the message takes its own reference.</summary>
    public void WriteCapability(int index, Capability? capability) => GetPointer(index).SetCapability(capability);

    /// <summary>Reads back what was written.</summary>
    public StructReader AsReader()
    {
        var message = _builder.AsReader();
        return new StructReader(message, _segment, _dataByte, _dataWords * 64, _pointerWord, _pointerCount, message.Options.NestingLimit);
    }

    internal Span<byte> DataSpan() => _builder.SegmentSpan(_segment).Slice(_dataByte, _dataWords * 8);

    private void CheckData(int offset, int bits)
    {
        if (offset < 0 || ((long)offset + 1) * bits > _dataWords * 64L)
        {
            throw new ArgumentOutOfRangeException(nameof(offset), offset, $"A {bits}-bit field at offset {offset} does not fit a data section of {_dataWords} words.");
        }
    }
}
