using System.Buffers;
using System.Buffers.Binary;

namespace RpcGen.Benchmarks.Peers.Raw;

/// <summary>
/// A growable byte buffer that frames are serialized into and sent from. Unlike
/// <see cref="ArrayBufferWriter{T}"/> it never clears memory on reset and lets a frame header be
/// patched once the payload length is known.
/// </summary>
public sealed class RawBuffer(int initialCapacity = 4096) : IBufferWriter<byte>
{
    private byte[] _buffer = new byte[initialCapacity];

    public int Length { get; private set; }

    public ReadOnlyMemory<byte> Written => _buffer.AsMemory(0, Length);

    public void Reset() => Length = 0;

    public void Advance(int count) => Length += count;

    public Memory<byte> GetMemory(int sizeHint = 0)
    {
        Ensure(sizeHint);
        return _buffer.AsMemory(Length);
    }

    public Span<byte> GetSpan(int sizeHint = 0)
    {
        Ensure(sizeHint);
        return _buffer.AsSpan(Length);
    }

    public void Append(ReadOnlySpan<byte> bytes)
    {
        Ensure(bytes.Length);
        bytes.CopyTo(_buffer.AsSpan(Length));
        Length += bytes.Length;
    }

    /// <summary>Reserves a frame header; returns where it starts, for <see cref="EndFrame"/>.</summary>
    public int BeginFrame(uint callId, RawMethod method)
    {
        var start = Length;
        var header = GetSpan(RawFrame.HeaderSize);
        BinaryPrimitives.WriteUInt32LittleEndian(header[4..], callId);
        header[8] = (byte)method;
        Length += RawFrame.HeaderSize;
        return start;
    }

    /// <summary>Writes the payload length into the header begun at <paramref name="start"/>.</summary>
    public void EndFrame(int start)
    {
        var payloadLength = Length - start - RawFrame.HeaderSize;
        BinaryPrimitives.WriteUInt32LittleEndian(_buffer.AsSpan(start), (uint)payloadLength);
    }

    private void Ensure(int sizeHint)
    {
        var needed = Length + Math.Max(sizeHint, 1);
        if (needed > _buffer.Length)
        {
            Array.Resize(ref _buffer, Math.Max(needed, _buffer.Length * 2));
        }
    }
}
