using System.Collections;
using System.Numerics;
using MessagePack;

namespace RpcGen.Serialization;

// Formatters for the framework value types contracts use beside the primitives. Each writes the form
// MessagePack-CSharp's standard resolver writes, where it has one, so other MessagePack peers read it.

/// <summary>The <see cref="DateOnly"/> formatter: its day number (days since 0001-01-01) as an integer.</summary>
public sealed class DateOnlyFormatter : IRpcFormatter<DateOnly>
{
    /// <summary>The shared instance.</summary>
    public static readonly DateOnlyFormatter Instance = new();

    /// <inheritdoc />
    public void Serialize(ref MessagePackWriter writer, DateOnly value) => writer.Write(value.DayNumber);

    /// <inheritdoc />
    public DateOnly Deserialize(ref MessagePackReader reader) => DateOnly.FromDayNumber(reader.ReadInt32());
}

/// <summary>The <see cref="TimeOnly"/> formatter: its ticks since midnight as an integer.</summary>
public sealed class TimeOnlyFormatter : IRpcFormatter<TimeOnly>
{
    /// <summary>The shared instance.</summary>
    public static readonly TimeOnlyFormatter Instance = new();

    /// <inheritdoc />
    public void Serialize(ref MessagePackWriter writer, TimeOnly value) => writer.Write(value.Ticks);

    /// <inheritdoc />
    public TimeOnly Deserialize(ref MessagePackReader reader) => new(reader.ReadInt64());
}

/// <summary>The <see cref="Half"/> formatter: a 32-bit float.</summary>
public sealed class HalfFormatter : IRpcFormatter<Half>
{
    /// <summary>The shared instance.</summary>
    public static readonly HalfFormatter Instance = new();

    /// <inheritdoc />
    public void Serialize(ref MessagePackWriter writer, Half value) => writer.Write((float)value);

    /// <inheritdoc />
    public Half Deserialize(ref MessagePackReader reader) => (Half)reader.ReadSingle();
}

/// <summary>The <see cref="BigInteger"/> formatter: bin of its two's-complement bytes, little-endian.</summary>
public sealed class BigIntegerFormatter : IRpcFormatter<BigInteger>
{
    /// <summary>The shared instance.</summary>
    public static readonly BigIntegerFormatter Instance = new();

    /// <inheritdoc />
    public void Serialize(ref MessagePackWriter writer, BigInteger value) => writer.Write(value.ToByteArray());

    /// <inheritdoc />
    public BigInteger Deserialize(ref MessagePackReader reader) =>
        new(BytesFormatting.Read(ref reader, "A BigInteger"));
}

/// <summary>The <see cref="Int128"/> formatter: bin of 16 bytes, little-endian two's complement.</summary>
public sealed class Int128Formatter : IRpcFormatter<Int128>
{
    /// <summary>The shared instance.</summary>
    public static readonly Int128Formatter Instance = new();

    /// <inheritdoc />
    public void Serialize(ref MessagePackWriter writer, Int128 value) => BytesFormatting.WriteInteger(ref writer, value);

    /// <inheritdoc />
    public Int128 Deserialize(ref MessagePackReader reader) => BytesFormatting.ReadInteger<Int128>(ref reader, isUnsigned: false, "An Int128");
}

/// <summary>The <see cref="UInt128"/> formatter: bin of 16 bytes, little-endian.</summary>
public sealed class UInt128Formatter : IRpcFormatter<UInt128>
{
    /// <summary>The shared instance.</summary>
    public static readonly UInt128Formatter Instance = new();

    /// <inheritdoc />
    public void Serialize(ref MessagePackWriter writer, UInt128 value) => BytesFormatting.WriteInteger(ref writer, value);

    /// <inheritdoc />
    public UInt128 Deserialize(ref MessagePackReader reader) => BytesFormatting.ReadInteger<UInt128>(ref reader, isUnsigned: true, "A UInt128");
}

/// <summary>The <see cref="Uri"/> formatter: its original string (nil for null), read back relative or absolute as it was.</summary>
public sealed class UriFormatter : IRpcFormatter<Uri>
{
    /// <summary>The shared instance.</summary>
    public static readonly UriFormatter Instance = new();

    /// <inheritdoc />
    public void Serialize(ref MessagePackWriter writer, Uri value) => writer.Write(value?.OriginalString);

    /// <inheritdoc />
    public Uri Deserialize(ref MessagePackReader reader) =>
        reader.ReadString() is { } text ? new Uri(text, UriKind.RelativeOrAbsolute) : null!;
}

/// <summary>The <see cref="Version"/> formatter: its string form (<c>1.2.3.4</c>; nil for null).</summary>
public sealed class VersionFormatter : IRpcFormatter<Version>
{
    /// <summary>The shared instance.</summary>
    public static readonly VersionFormatter Instance = new();

    /// <inheritdoc />
    public void Serialize(ref MessagePackWriter writer, Version value) => writer.Write(value?.ToString());

    /// <inheritdoc />
    public Version Deserialize(ref MessagePackReader reader) =>
        reader.ReadString() is { } text ? Version.Parse(text) : null!;
}

/// <summary>The <see cref="BitArray"/> formatter: an array of booleans (nil for null).</summary>
public sealed class BitArrayFormatter : IRpcFormatter<BitArray>
{
    /// <summary>The shared instance.</summary>
    public static readonly BitArrayFormatter Instance = new();

    /// <inheritdoc />
    public void Serialize(ref MessagePackWriter writer, BitArray value)
    {
        if (value is null)
        {
            writer.WriteNil();
            return;
        }

        writer.WriteArrayHeader(value.Length);
        for (var i = 0; i < value.Length; i++)
        {
            writer.Write(value[i]);
        }
    }

    /// <inheritdoc />
    public BitArray Deserialize(ref MessagePackReader reader)
    {
        if (reader.TryReadNil())
        {
            return null!;
        }

        // ReadArrayHeader refuses a count larger than the bytes that remain.
        var result = new BitArray(reader.ReadArrayHeader());
        for (var i = 0; i < result.Length; i++)
        {
            result[i] = reader.ReadBoolean();
        }

        return result;
    }
}

/// <summary>The <see cref="ReadOnlyMemory{T}"/> of bytes formatter: bin.</summary>
public sealed class ReadOnlyMemoryOfByteFormatter : IRpcFormatter<ReadOnlyMemory<byte>>
{
    /// <summary>The shared instance.</summary>
    public static readonly ReadOnlyMemoryOfByteFormatter Instance = new();

    /// <inheritdoc />
    public void Serialize(ref MessagePackWriter writer, ReadOnlyMemory<byte> value) => writer.Write(value.Span);

    /// <inheritdoc />
    public ReadOnlyMemory<byte> Deserialize(ref MessagePackReader reader) => BytesFormatting.Read(ref reader, "A ReadOnlyMemory<byte>");
}

/// <summary>The <see cref="Memory{T}"/> of bytes formatter: bin.</summary>
public sealed class MemoryOfByteFormatter : IRpcFormatter<Memory<byte>>
{
    /// <summary>The shared instance.</summary>
    public static readonly MemoryOfByteFormatter Instance = new();

    /// <inheritdoc />
    public void Serialize(ref MessagePackWriter writer, Memory<byte> value) => writer.Write(value.Span);

    /// <inheritdoc />
    public Memory<byte> Deserialize(ref MessagePackReader reader) => BytesFormatting.Read(ref reader, "A Memory<byte>");
}

/// <summary>The <see cref="ArraySegment{T}"/> of bytes formatter: bin.</summary>
public sealed class ArraySegmentOfByteFormatter : IRpcFormatter<ArraySegment<byte>>
{
    /// <summary>The shared instance.</summary>
    public static readonly ArraySegmentOfByteFormatter Instance = new();

    /// <inheritdoc />
    public void Serialize(ref MessagePackWriter writer, ArraySegment<byte> value) => writer.Write(value.AsSpan());

    /// <inheritdoc />
    public ArraySegment<byte> Deserialize(ref MessagePackReader reader) => BytesFormatting.Read(ref reader, "An ArraySegment<byte>");
}

/// <summary>Reading and writing MessagePack bin for the formatters above.</summary>
internal static class BytesFormatting
{
    /// <summary>Reads a bin into a new array; nil is refused, since none of these types has a null.</summary>
    public static byte[] Read(ref MessagePackReader reader, string what)
    {
        var bytes = reader.ReadBytes() ?? throw new MessagePackSerializationException(what + " cannot be nil.");
        return System.Buffers.BuffersExtensions.ToArray(bytes);
    }

    /// <summary>Writes a 16-byte integer as bin 16, little-endian.</summary>
    public static void WriteInteger<T>(ref MessagePackWriter writer, T value)
        where T : IBinaryInteger<T>
    {
        var bytes = writer.GetSpan(18);
        bytes[0] = MessagePackCode.Bin8;
        bytes[1] = 16;
        value.WriteLittleEndian(bytes.Slice(2, 16));
        writer.Advance(18);
    }

    /// <summary>Reads a 16-byte integer written by <see cref="WriteInteger"/>.</summary>
    public static T ReadInteger<T>(ref MessagePackReader reader, bool isUnsigned, string what)
        where T : IBinaryInteger<T>
    {
        var sequence = reader.ReadBytes() ?? throw new MessagePackSerializationException(what + " cannot be nil.");
        if (sequence.Length != 16)
        {
            throw new MessagePackSerializationException(what + " is 16 bytes.");
        }

        Span<byte> bytes = stackalloc byte[16];
        System.Buffers.BuffersExtensions.CopyTo(sequence, bytes);
        return T.ReadLittleEndian(bytes, isUnsigned);
    }
}
