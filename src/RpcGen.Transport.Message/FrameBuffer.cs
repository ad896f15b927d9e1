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
    private static readonly ConcurrentQueue<FrameBuffer> s_pool = new();

    private byte[] _buffer = new byte[InitialSize];
    private int _written;

    /// <summary>The bytes written so far, header slot included.</summary>
    public ReadOnlySpan<byte> WrittenSpan => _buffer.AsSpan(0, _written);

    /// <summary>Payload bytes written after the header slot.</summary>
    public int PayloadLength => _written - FrameHeader.Size;

    public static FrameBuffer Rent()
    {
        if (!s_pool.TryDequeue(out var buffer))
        {
            buffer = new FrameBuffer();
        }

        buffer._written = FrameHeader.Size;
        return buffer;
    }

    public static void Return(FrameBuffer buffer)
    {
        if (buffer._buffer.Length <= MaxPooledSize && s_pool.Count < MaxPooled)
        {
            s_pool.Enqueue(buffer);
        }
    }

    /// <summary>Fills the header slot.</summary>
    public void WriteHeader(in FrameHeader header) => header.Write(_buffer);

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

        var size = Math.Max(needed, checked(_buffer.Length * 2));
        Array.Resize(ref _buffer, size);
    }
}
