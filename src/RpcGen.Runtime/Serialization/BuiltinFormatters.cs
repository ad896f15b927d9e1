using System.Globalization;
using MessagePack;

namespace RpcGen.Serialization;

/// <summary>Formatters for the primitive types every contract may use without generated code.</summary>
internal static class BuiltinFormatters
{
    // typeof(T) comparisons are folded per instantiation by the JIT and by NativeAOT, so this is a
    // constant per T and needs no reflection.
    public static IRpcFormatter<T>? Get<T>()
    {
        object? formatter =
            typeof(T) == typeof(bool) ? BooleanFormatter.Instance :
            typeof(T) == typeof(byte) ? ByteFormatter.Instance :
            typeof(T) == typeof(sbyte) ? SByteFormatter.Instance :
            typeof(T) == typeof(short) ? Int16Formatter.Instance :
            typeof(T) == typeof(ushort) ? UInt16Formatter.Instance :
            typeof(T) == typeof(int) ? Int32Formatter.Instance :
            typeof(T) == typeof(uint) ? UInt32Formatter.Instance :
            typeof(T) == typeof(long) ? Int64Formatter.Instance :
            typeof(T) == typeof(ulong) ? UInt64Formatter.Instance :
            typeof(T) == typeof(float) ? SingleFormatter.Instance :
            typeof(T) == typeof(double) ? DoubleFormatter.Instance :
            typeof(T) == typeof(decimal) ? DecimalFormatter.Instance :
            typeof(T) == typeof(char) ? CharFormatter.Instance :
            typeof(T) == typeof(string) ? StringFormatter.Instance :
            typeof(T) == typeof(byte[]) ? ByteArrayFormatter.Instance :
            typeof(T) == typeof(DateTime) ? DateTimeFormatter.Instance :
            typeof(T) == typeof(DateTimeOffset) ? DateTimeOffsetFormatter.Instance :
            typeof(T) == typeof(TimeSpan) ? TimeSpanFormatter.Instance :
            typeof(T) == typeof(Guid) ? GuidFormatter.Instance :
            typeof(T) == typeof(DateOnly) ? DateOnlyFormatter.Instance :
            typeof(T) == typeof(TimeOnly) ? TimeOnlyFormatter.Instance :
            typeof(T) == typeof(Half) ? HalfFormatter.Instance :
            typeof(T) == typeof(System.Numerics.BigInteger) ? BigIntegerFormatter.Instance :
            typeof(T) == typeof(Int128) ? Int128Formatter.Instance :
            typeof(T) == typeof(UInt128) ? UInt128Formatter.Instance :
            typeof(T) == typeof(Uri) ? UriFormatter.Instance :
            typeof(T) == typeof(Version) ? VersionFormatter.Instance :
            typeof(T) == typeof(System.Collections.BitArray) ? BitArrayFormatter.Instance :
            typeof(T) == typeof(ReadOnlyMemory<byte>) ? ReadOnlyMemoryOfByteFormatter.Instance :
            typeof(T) == typeof(Memory<byte>) ? MemoryOfByteFormatter.Instance :
            typeof(T) == typeof(ArraySegment<byte>) ? ArraySegmentOfByteFormatter.Instance :
            typeof(T) == typeof(RpcVoid) ? RpcVoidFormatter.Instance :
            null;
        return (IRpcFormatter<T>?)formatter;
    }
}

/// <summary>Writes <see cref="RpcVoid"/> as nil and accepts (and skips) anything on read, so a method can later gain a result.</summary>
public sealed class RpcVoidFormatter : IRpcFormatter<RpcVoid>
{
    /// <summary>The shared instance.</summary>
    public static readonly RpcVoidFormatter Instance = new();

    /// <inheritdoc />
    public void Serialize(ref MessagePackWriter writer, RpcVoid value) => writer.WriteNil();

    /// <inheritdoc />
    public RpcVoid Deserialize(ref MessagePackReader reader)
    {
        // Whatever stands in for "nothing" is skipped, but only within RpcSerializer.MaxDepth, like every
        // other read: MessagePackReader.Skip ignores that limit and walks any nesting a peer sends.
        MessagePackSkipper.Skip(ref reader);
        return default;
    }
}

/// <summary>The <see cref="bool"/> formatter.</summary>
public sealed class BooleanFormatter : IRpcFormatter<bool>
{
    /// <summary>The shared instance.</summary>
    public static readonly BooleanFormatter Instance = new();

    /// <inheritdoc />
    public void Serialize(ref MessagePackWriter writer, bool value) => writer.Write(value);

    /// <inheritdoc />
    public bool Deserialize(ref MessagePackReader reader) => reader.ReadBoolean();
}

/// <summary>The <see cref="byte"/> formatter.</summary>
public sealed class ByteFormatter : IRpcFormatter<byte>
{
    /// <summary>The shared instance.</summary>
    public static readonly ByteFormatter Instance = new();

    /// <inheritdoc />
    public void Serialize(ref MessagePackWriter writer, byte value) => writer.Write(value);

    /// <inheritdoc />
    public byte Deserialize(ref MessagePackReader reader) => reader.ReadByte();
}

/// <summary>The <see cref="sbyte"/> formatter.</summary>
public sealed class SByteFormatter : IRpcFormatter<sbyte>
{
    /// <summary>The shared instance.</summary>
    public static readonly SByteFormatter Instance = new();

    /// <inheritdoc />
    public void Serialize(ref MessagePackWriter writer, sbyte value) => writer.Write(value);

    /// <inheritdoc />
    public sbyte Deserialize(ref MessagePackReader reader) => reader.ReadSByte();
}

/// <summary>The <see cref="short"/> formatter.</summary>
public sealed class Int16Formatter : IRpcFormatter<short>
{
    /// <summary>The shared instance.</summary>
    public static readonly Int16Formatter Instance = new();

    /// <inheritdoc />
    public void Serialize(ref MessagePackWriter writer, short value) => writer.Write(value);

    /// <inheritdoc />
    public short Deserialize(ref MessagePackReader reader) => reader.ReadInt16();
}

/// <summary>The <see cref="ushort"/> formatter.</summary>
public sealed class UInt16Formatter : IRpcFormatter<ushort>
{
    /// <summary>The shared instance.</summary>
    public static readonly UInt16Formatter Instance = new();

    /// <inheritdoc />
    public void Serialize(ref MessagePackWriter writer, ushort value) => writer.Write(value);

    /// <inheritdoc />
    public ushort Deserialize(ref MessagePackReader reader) => reader.ReadUInt16();
}

/// <summary>The <see cref="int"/> formatter.</summary>
public sealed class Int32Formatter : IRpcFormatter<int>
{
    /// <summary>The shared instance.</summary>
    public static readonly Int32Formatter Instance = new();

    /// <inheritdoc />
    public void Serialize(ref MessagePackWriter writer, int value) => writer.Write(value);

    /// <inheritdoc />
    public int Deserialize(ref MessagePackReader reader) => reader.ReadInt32();
}

/// <summary>The <see cref="uint"/> formatter.</summary>
public sealed class UInt32Formatter : IRpcFormatter<uint>
{
    /// <summary>The shared instance.</summary>
    public static readonly UInt32Formatter Instance = new();

    /// <inheritdoc />
    public void Serialize(ref MessagePackWriter writer, uint value) => writer.Write(value);

    /// <inheritdoc />
    public uint Deserialize(ref MessagePackReader reader) => reader.ReadUInt32();
}

/// <summary>The <see cref="long"/> formatter.</summary>
public sealed class Int64Formatter : IRpcFormatter<long>
{
    /// <summary>The shared instance.</summary>
    public static readonly Int64Formatter Instance = new();

    /// <inheritdoc />
    public void Serialize(ref MessagePackWriter writer, long value) => writer.Write(value);

    /// <inheritdoc />
    public long Deserialize(ref MessagePackReader reader) => reader.ReadInt64();
}

/// <summary>The <see cref="ulong"/> formatter.</summary>
public sealed class UInt64Formatter : IRpcFormatter<ulong>
{
    /// <summary>The shared instance.</summary>
    public static readonly UInt64Formatter Instance = new();

    /// <inheritdoc />
    public void Serialize(ref MessagePackWriter writer, ulong value) => writer.Write(value);

    /// <inheritdoc />
    public ulong Deserialize(ref MessagePackReader reader) => reader.ReadUInt64();
}

/// <summary>The <see cref="float"/> formatter.</summary>
public sealed class SingleFormatter : IRpcFormatter<float>
{
    /// <summary>The shared instance.</summary>
    public static readonly SingleFormatter Instance = new();

    /// <inheritdoc />
    public void Serialize(ref MessagePackWriter writer, float value) => writer.Write(value);

    /// <inheritdoc />
    public float Deserialize(ref MessagePackReader reader) => reader.ReadSingle();
}

/// <summary>The <see cref="double"/> formatter.</summary>
public sealed class DoubleFormatter : IRpcFormatter<double>
{
    /// <summary>The shared instance.</summary>
    public static readonly DoubleFormatter Instance = new();

    /// <inheritdoc />
    public void Serialize(ref MessagePackWriter writer, double value) => writer.Write(value);

    /// <inheritdoc />
    public double Deserialize(ref MessagePackReader reader) => reader.ReadDouble();
}

/// <summary>The <see cref="decimal"/> formatter: invariant text, as MessagePack-CSharp writes it, so no precision is lost.</summary>
public sealed class DecimalFormatter : IRpcFormatter<decimal>
{
    /// <summary>The shared instance.</summary>
    public static readonly DecimalFormatter Instance = new();

    /// <inheritdoc />
    public void Serialize(ref MessagePackWriter writer, decimal value) =>
        writer.Write(value.ToString(CultureInfo.InvariantCulture));

    /// <inheritdoc />
    public decimal Deserialize(ref MessagePackReader reader)
    {
        var text = reader.ReadString();
        if (text is null || !decimal.TryParse(text, NumberStyles.Number, CultureInfo.InvariantCulture, out var value))
        {
            throw new MessagePackSerializationException("Invalid decimal text.");
        }

        return value;
    }
}

/// <summary>The <see cref="char"/> formatter.</summary>
public sealed class CharFormatter : IRpcFormatter<char>
{
    /// <summary>The shared instance.</summary>
    public static readonly CharFormatter Instance = new();

    /// <inheritdoc />
    public void Serialize(ref MessagePackWriter writer, char value) => writer.Write(value);

    /// <inheritdoc />
    public char Deserialize(ref MessagePackReader reader) => reader.ReadChar();
}

/// <summary>The <see cref="string"/> formatter (nil for null).</summary>
public sealed class StringFormatter : IRpcFormatter<string>
{
    /// <summary>The shared instance.</summary>
    public static readonly StringFormatter Instance = new();

    /// <inheritdoc />
    public void Serialize(ref MessagePackWriter writer, string value) => writer.Write(value);

    /// <inheritdoc />
    public string Deserialize(ref MessagePackReader reader) => reader.ReadString()!;
}

/// <summary>The <see cref="byte"/> array formatter: MessagePack bin (nil for null).</summary>
public sealed class ByteArrayFormatter : IRpcFormatter<byte[]>
{
    /// <summary>The shared instance.</summary>
    public static readonly ByteArrayFormatter Instance = new();

    /// <inheritdoc />
    public void Serialize(ref MessagePackWriter writer, byte[] value) => writer.Write(value);

    /// <inheritdoc />
    public byte[] Deserialize(ref MessagePackReader reader)
    {
        var bytes = reader.ReadBytes();
        return bytes is { } sequence ? System.Buffers.BuffersExtensions.ToArray(sequence) : null!;
    }
}

/// <summary>
/// The <see cref="DateTime"/> formatter; it keeps <see cref="DateTime.Kind"/>. A <c>Utc</c> value is the
/// MessagePack timestamp extension; a <c>Local</c> or <c>Unspecified</c> value is a two-element array
/// <c>[timestamp, kind]</c> (kind 0 = Unspecified: the ticks as they are, read as if UTC; kind 2 = Local:
/// the UTC instant, read back as local time in the reader's time zone).
/// </summary>
public sealed class DateTimeFormatter : IRpcFormatter<DateTime>
{
    /// <summary>The shared instance.</summary>
    public static readonly DateTimeFormatter Instance = new();

    /// <inheritdoc />
    public void Serialize(ref MessagePackWriter writer, DateTime value)
    {
        switch (value.Kind)
        {
            case DateTimeKind.Utc:
                writer.Write(value);
                break;
            case DateTimeKind.Local:
                writer.WriteArrayHeader(2);
                writer.Write(value.ToUniversalTime());
                writer.Write((int)DateTimeKind.Local);
                break;
            default:
                writer.WriteArrayHeader(2);
                writer.Write(DateTime.SpecifyKind(value, DateTimeKind.Utc));
                writer.Write((int)DateTimeKind.Unspecified);
                break;
        }
    }

    /// <inheritdoc />
    public DateTime Deserialize(ref MessagePackReader reader)
    {
        if (reader.NextMessagePackType != MessagePackType.Array)
        {
            return reader.ReadDateTime();
        }

        if (reader.ReadArrayHeader() != 2)
        {
            throw new MessagePackSerializationException("A DateTime that is not UTC is a two-element array [timestamp, kind].");
        }

        var instant = reader.ReadDateTime();
        return reader.ReadInt32() switch
        {
            (int)DateTimeKind.Local => instant.ToLocalTime(),
            (int)DateTimeKind.Unspecified => DateTime.SpecifyKind(instant, DateTimeKind.Unspecified),
            var kind => throw new MessagePackSerializationException($"DateTime kind {kind} is not 0 (Unspecified) or 2 (Local)."),
        };
    }
}

/// <summary>The <see cref="DateTimeOffset"/> formatter: <c>[utc timestamp, offset minutes]</c>.</summary>
public sealed class DateTimeOffsetFormatter : IRpcFormatter<DateTimeOffset>
{
    /// <summary>The shared instance.</summary>
    public static readonly DateTimeOffsetFormatter Instance = new();

    /// <inheritdoc />
    public void Serialize(ref MessagePackWriter writer, DateTimeOffset value)
    {
        writer.WriteArrayHeader(2);
        writer.Write(value.UtcDateTime);
        writer.Write((short)value.Offset.TotalMinutes);
    }

    /// <inheritdoc />
    public DateTimeOffset Deserialize(ref MessagePackReader reader)
    {
        if (reader.ReadArrayHeader() != 2)
        {
            throw new MessagePackSerializationException("A DateTimeOffset is a two-element array.");
        }

        var utc = reader.ReadDateTime();
        var offset = TimeSpan.FromMinutes(reader.ReadInt16());
        return new DateTimeOffset(utc.Ticks, TimeSpan.Zero).ToOffset(offset);
    }
}

/// <summary>The <see cref="TimeSpan"/> formatter: ticks as an integer.</summary>
public sealed class TimeSpanFormatter : IRpcFormatter<TimeSpan>
{
    /// <summary>The shared instance.</summary>
    public static readonly TimeSpanFormatter Instance = new();

    /// <inheritdoc />
    public void Serialize(ref MessagePackWriter writer, TimeSpan value) => writer.Write(value.Ticks);

    /// <inheritdoc />
    public TimeSpan Deserialize(ref MessagePackReader reader) => new(reader.ReadInt64());
}

/// <summary>The <see cref="Guid"/> formatter: 16 bytes of MessagePack bin in RFC 4122 (big-endian) order.</summary>
public sealed class GuidFormatter : IRpcFormatter<Guid>
{
    /// <summary>The shared instance.</summary>
    public static readonly GuidFormatter Instance = new();

    /// <inheritdoc />
    public void Serialize(ref MessagePackWriter writer, Guid value)
    {
        var bytes = writer.GetSpan(18);
        bytes[0] = MessagePackCode.Bin8;
        bytes[1] = 16;
        value.TryWriteBytes(bytes.Slice(2, 16), bigEndian: true, out _);
        writer.Advance(18);
    }

    /// <inheritdoc />
    public Guid Deserialize(ref MessagePackReader reader)
    {
        var bytes = reader.ReadBytes() ?? throw new MessagePackSerializationException("A Guid cannot be nil.");
        if (bytes.Length != 16)
        {
            throw new MessagePackSerializationException("A Guid is 16 bytes.");
        }

        Span<byte> span = stackalloc byte[16];
        System.Buffers.BuffersExtensions.CopyTo(bytes, span);
        return new Guid(span, bigEndian: true);
    }
}
