using System.Buffers;
using System.Collections.Concurrent;

namespace RpcGen.Transport.Message;

/// <summary>
/// A growable buffer one frame is built in: the header slot first, then the payload serialized
/// straight after it. Frames are built outside the connection's write lock and copied into the
/// link under it, so a slow serializer never holds up other callers. Buffers are pooled.
/// </summary>
internal sealed class FrameBuffer : IBufferWriter<byte>
{
    private const int InitialSize = 512;
    private const int MaxPooledSize = 256 * 1024;
    private const int MaxPooled = 64;

    // Room left after a large write for the few bytes a serializer writes after it (see Ensure).
    private const int LargeWriteSlack = 512;
    private static readonly ConcurrentQueue<FrameBuffer> s_pool = new();

    private byte[] _buffer = new byte[InitialSize];
    private int _written;
    private int _uncompressedLength;

    /// <summary>The bytes written so far, header slot included.</summary>
    public ReadOnlySpan<byte> WrittenSpan => _buffer.AsSpan(0, _written);

    /// <summary>The bytes written so far as a range of the buffer, for a gathered send straight from it.</summary>
    public ArraySegment<byte> WrittenSegment => new(_buffer, 0, _written);

    /// <summary>
    /// The memory this frame occupies while queued (its buffer and the object around it), which is
    /// what outbound limits count: a 40-byte frame in a 512-byte buffer costs 512 bytes, not 40.
    /// </summary>
    public int HeldBytes => _buffer.Length + ObjectOverheadBytes + (Leading?.HeldBytes ?? 0);

    /// <summary>
    /// A frame that must reach the link immediately before this one, in the same write (the
    /// <see cref="FrameKind.Metadata"/> of a call), so no other frame can come between them. Null for
    /// most frames; returned to the pool with this one.
    /// </summary>
    public FrameBuffer? Leading { get; set; }

    private const int ObjectOverheadBytes = 64;

    /// <summary>Payload bytes written after the header slot.</summary>
    public int PayloadLength => _written - FrameHeader.Size;

    public static FrameBuffer Rent()
    {
        if (!s_pool.TryDequeue(out var buffer))
        {
            buffer = new FrameBuffer();
        }

        buffer._written = FrameHeader.Size;
        buffer.Codec = RpcGen.Compression.RpcCompression.None;
        return buffer;
    }

    /// <summary>
    /// Rents a buffer for whole frames written back to back (<see cref="Append"/>), with no header
    /// slot of its own: queued as one, it reaches the link as the frames it holds.
    /// </summary>
    public static FrameBuffer RentBatch()
    {
        var buffer = Rent();
        buffer._written = 0;
        return buffer;
    }

    /// <summary>Appends a whole frame (header included) to a buffer from <see cref="RentBatch"/>.</summary>
    public void Append(ReadOnlySpan<byte> frame)
    {
        frame.CopyTo(GetSpan(frame.Length));
        _written += frame.Length;
    }

    public static void Return(FrameBuffer buffer)
    {
        if (buffer.Leading is { } leading)
        {
            buffer.Leading = null;
            Return(leading);
        }

        if (buffer._buffer.Length <= MaxPooledSize && s_pool.Count < MaxPooled)
        {
            s_pool.Enqueue(buffer);
        }
    }

    /// <summary>
    /// The payload's length before compression: what the receiver holds once it decompressed it,
    /// and so what stream flow control counts.
    /// </summary>
    public int UncompressedPayloadLength => Codec == RpcGen.Compression.RpcCompression.None ? PayloadLength : _uncompressedLength;

    /// <summary>The codec the payload was compressed with; ORed into the header's flags.</summary>
    public RpcGen.Compression.RpcCompression Codec { get; private set; }

    /// <summary>Fills the header slot, adding the payload's codec to the flags.</summary>
    public void WriteHeader(in FrameHeader header) =>
        (header with { Flags = (byte)(header.Flags | (byte)Codec) }).Write(_buffer);

    /// <summary>
    /// Compresses the payload in place with <paramref name="codec"/> when it is at least
    /// <paramref name="threshold"/> bytes and compression makes it smaller; otherwise leaves it raw.
    /// </summary>
    public void Compress(RpcGen.Compression.RpcCompression codec, int threshold)
    {
        var length = PayloadLength;
        if (codec == RpcGen.Compression.RpcCompression.None || length < threshold)
        {
            return;
        }

        var scratch = System.Buffers.ArrayPool<byte>.Shared.Rent(4 + RpcGen.Compression.RpcCodecs.MaxCompressedLength(codec, length));
        try
        {
            var written = RpcGen.Compression.RpcCodecs.TryCompress(codec, _buffer.AsSpan(FrameHeader.Size, length), scratch.AsSpan(4));
            if (written < 0)
            {
                return;
            }

            System.Buffers.Binary.BinaryPrimitives.WriteInt32LittleEndian(scratch, length);
            _uncompressedLength = length;
            _written = FrameHeader.Size;
            scratch.AsSpan(0, 4 + written).CopyTo(GetSpan(4 + written));
            _written += 4 + written;
            Codec = codec;
        }
        finally
        {
            System.Buffers.ArrayPool<byte>.Shared.Return(scratch);
        }
    }

    public void Advance(int count)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(count);
        if (_written + count > _buffer.Length)
        {
            throw new InvalidOperationException("Advanced past the end of the buffer.");
        }

        _written += count;
    }

    public Memory<byte> GetMemory(int sizeHint = 0)
    {
        Ensure(sizeHint);
        return _buffer.AsMemory(_written);
    }

    public Span<byte> GetSpan(int sizeHint = 0)
    {
        Ensure(sizeHint);
        return _buffer.AsSpan(_written);
    }

    private void Ensure(int sizeHint)
    {
        var needed = _written + Math.Max(sizeHint, 1);
        if (needed <= _buffer.Length)
        {
            return;
        }

        // A write larger than the whole buffer (a large array or string written in one piece) gets
        // what it needs and a little for what follows, once. Doubling would copy the payload again
        // on the next growth or leave up to half the buffer unused, and the outbound limits count the
        // whole buffer while the frame is queued: 64 answers of 64 KiB in 128 KiB buffers filled a
        // connection's 8 MiB and stopped its reader.
        var size = sizeHint >= _buffer.Length
            ? checked(needed + LargeWriteSlack)
            : Math.Max(needed, checked(_buffer.Length * 2));
        Array.Resize(ref _buffer, size);
    }
}
