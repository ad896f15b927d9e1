using System.Buffers;
using System.Buffers.Binary;

namespace RpcGen.Capnp;

/// <summary>
/// The standard stream framing: a segment table (segment count minus one, then each segment's size
/// in words, padded to a word) followed by the segments. Readers check the declared counts and sizes
/// against <see cref="CapnpReaderOptions"/> before allocating anything.
/// </summary>
public static class CapnpFraming
{
    /// <summary>The framed size of <paramref name="builder"/>'s message in bytes.</summary>
    public static long GetFramedLength(CapnpMessageBuilder builder)
    {
        ArgumentNullException.ThrowIfNull(builder);
        return HeaderBytes(builder.SegmentCount) + (builder.TotalWords * 8);
    }

    /// <summary>Writes the framed message to <paramref name="output"/>.</summary>
    public static void Write(CapnpMessageBuilder builder, IBufferWriter<byte> output)
    {
        ArgumentNullException.ThrowIfNull(builder);
        ArgumentNullException.ThrowIfNull(output);
        var count = builder.SegmentCount;
        var headerBytes = HeaderBytes(count);
        WriteHeader(builder, output.GetSpan(headerBytes)[..headerBytes]);
        output.Advance(headerBytes);
        for (var i = 0; i < count; i++)
        {
            output.Write(builder.GetSegment(i).Span);
        }
    }

    /// <summary>Writes the framed message into <paramref name="destination"/>, which holds at least <see cref="GetFramedLength"/> bytes; returns that length.</summary>
    internal static int Write(CapnpMessageBuilder builder, Span<byte> destination)
    {
        var count = builder.SegmentCount;
        var written = HeaderBytes(count);
        WriteHeader(builder, destination[..written]);
        for (var i = 0; i < count; i++)
        {
            var segment = builder.GetSegment(i).Span;
            segment.CopyTo(destination[written..]);
            written += segment.Length;
        }

        return written;
    }

    private static void WriteHeader(CapnpMessageBuilder builder, Span<byte> header)
    {
        var count = builder.SegmentCount;
        header.Clear();
        BinaryPrimitives.WriteUInt32LittleEndian(header, (uint)(count - 1));
        for (var i = 0; i < count; i++)
        {
            BinaryPrimitives.WriteUInt32LittleEndian(header.Slice(4 + (i * 4), 4), (uint)(builder.GetSegment(i).Length / 8));
        }
    }

    /// <summary>The framed message as a new array.</summary>
    public static byte[] ToArray(CapnpMessageBuilder builder)
    {
        var buffer = new ArrayBufferWriter<byte>(checked((int)GetFramedLength(builder)));
        Write(builder, buffer);
        return buffer.WrittenSpan.ToArray();
    }

    /// <summary>Writes the framed message packed (see <see cref="CapnpPacking"/>).</summary>
    public static void WritePacked(CapnpMessageBuilder builder, IBufferWriter<byte> output)
    {
        var length = checked((int)GetFramedLength(builder));
        var unpacked = ArrayPool<byte>.Shared.Rent(length);
        try
        {
            var writer = new SpanWriter(unpacked);
            Write(builder, writer);
            CapnpPacking.Pack(unpacked.AsSpan(0, length), output);
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(unpacked);
        }
    }

    /// <summary>The packed framed message as a new array.</summary>
    public static byte[] ToPackedArray(CapnpMessageBuilder builder)
    {
        var buffer = new ArrayBufferWriter<byte>();
        WritePacked(builder, buffer);
        return buffer.WrittenSpan.ToArray();
    }

    /// <summary>Reads one framed message from the start of <paramref name="bytes"/>; the segments share its memory.</summary>
    /// <exception cref="CapnpDecodeException">The bytes are truncated or declare more than the limits allow.</exception>
    public static CapnpMessage Read(ReadOnlyMemory<byte> bytes, CapnpReaderOptions? options, out int consumed)
    {
        options ??= CapnpReaderOptions.Default;
        var span = bytes.Span;
        if (span.Length < 4)
        {
            throw new CapnpDecodeException("The message is truncated: no segment table.");
        }

        var count = ReadSegmentCount(span, options);
        var headerBytes = HeaderBytes(count);
        if (span.Length < headerBytes)
        {
            throw new CapnpDecodeException("The message is truncated inside its segment table.");
        }

        var sizes = ReadSegmentSizes(span, count, options, out var totalWords);
        if (span.Length - headerBytes < totalWords * 8)
        {
            throw new CapnpDecodeException($"The message is truncated: its segment table declares {totalWords} words but fewer bytes follow.");
        }

        var segments = new ReadOnlyMemory<byte>[count];
        var position = headerBytes;
        for (var i = 0; i < count; i++)
        {
            segments[i] = bytes.Slice(position, sizes[i] * 8);
            position += sizes[i] * 8;
        }

        consumed = position;
        return new CapnpMessage(segments, options);
    }

    /// <summary>Reads one packed framed message from the start of <paramref name="packed"/>.</summary>
    public static CapnpMessage ReadPacked(ReadOnlySpan<byte> packed, CapnpReaderOptions? options, out int consumed)
    {
        options ??= CapnpReaderOptions.Default;
        var decoder = new PackedDecoder(packed);
        Span<byte> first = stackalloc byte[8];
        decoder.ReadWords(first);
        var count = ReadSegmentCount(first, options);
        var headerBytes = HeaderBytes(count);
        var header = new byte[headerBytes];
        first.CopyTo(header);
        decoder.ReadWords(header.AsSpan(8));
        var sizes = ReadSegmentSizes(header, count, options, out var totalWords);
        if (totalWords > decoder.MaxWordsRemaining)
        {
            // Each two packed bytes expand to at most 256 words; refuse before allocating.
            throw new CapnpDecodeException($"The packed message declares {totalWords} words, more than its remaining bytes can hold.");
        }

        var body = new byte[totalWords * 8];
        decoder.ReadWords(body);
        decoder.EnsureNoPendingRun();
        consumed = decoder.Position;

        var segments = new ReadOnlyMemory<byte>[count];
        var position = 0;
        for (var i = 0; i < count; i++)
        {
            segments[i] = body.AsMemory(position, sizes[i] * 8);
            position += sizes[i] * 8;
        }

        return new CapnpMessage(segments, options);
    }

    /// <summary>Bytes taken by the segment table for <paramref name="segmentCount"/> segments, padding included.</summary>
    public static int HeaderBytes(int segmentCount) => ((4 + (4 * segmentCount)) + 7) & ~7;

    internal static int ReadSegmentCount(ReadOnlySpan<byte> header, CapnpReaderOptions options)
    {
        var countMinusOne = BinaryPrimitives.ReadUInt32LittleEndian(header);
        if (countMinusOne >= (uint)options.MaxSegments)
        {
            throw new CapnpDecodeException($"The segment table declares {(ulong)countMinusOne + 1} segments; the limit is {options.MaxSegments}.");
        }

        return (int)countMinusOne + 1;
    }

    internal static int[] ReadSegmentSizes(ReadOnlySpan<byte> header, int count, CapnpReaderOptions options, out long totalWords)
    {
        var sizes = new int[count];
        ReadSegmentSizes(header, sizes, options, out totalWords);
        return sizes;
    }

    /// <summary>Reads the segment table's sizes into <paramref name="sizes"/> (one per segment), checking the total against the traversal limit.</summary>
    internal static void ReadSegmentSizes(ReadOnlySpan<byte> header, Span<int> sizes, CapnpReaderOptions options, out long totalWords)
    {
        var count = sizes.Length;
        totalWords = 0;
        for (var i = 0; i < count; i++)
        {
            var words = BinaryPrimitives.ReadUInt32LittleEndian(header.Slice(4 + (i * 4), 4));
            totalWords += words;
            if (totalWords > options.TraversalLimitInWords || totalWords > int.MaxValue / 8)
            {
                throw new CapnpDecodeException($"The segment table declares more than {options.TraversalLimitInWords} words, the traversal limit; the message is too large.");
            }

            sizes[i] = (int)words;
        }
    }

    /// <summary>An <see cref="IBufferWriter{T}"/> over a fixed array, for framing into a rented buffer.</summary>
    private sealed class SpanWriter(byte[] buffer) : IBufferWriter<byte>
    {
        private int _written;

        public void Advance(int count) => _written += count;

        public Memory<byte> GetMemory(int sizeHint = 0) => buffer.AsMemory(_written);

        public Span<byte> GetSpan(int sizeHint = 0) => buffer.AsSpan(_written);
    }
}
