using System.Runtime.InteropServices;
using MessagePack;
using RpcGen.Buffers;

namespace RpcGen.Serialization;

/// <summary>
/// Writes a chunk of bytes as itself, with no MessagePack envelope: the frame's length already says
/// how long it is. Used for <c>Stream</c> parameters and results, where per-item envelopes would only
/// cost time. Reading takes every remaining byte of the payload.
/// </summary>
public sealed class RawBytesFormatter : IRpcFormatter<ReadOnlyMemory<byte>>
{
    /// <summary>The shared instance.</summary>
    public static readonly RawBytesFormatter Instance = new();

    /// <inheritdoc />
    public void Serialize(ref MessagePackWriter writer, ReadOnlyMemory<byte> value) => writer.WriteRaw(value.Span);

    /// <inheritdoc />
    /// <remarks>
    /// The chunk lives in an array rented from <see cref="System.Buffers.ArrayPool{T}.Shared"/>; the
    /// stream adapter (<see cref="RpcGen.Streams.RpcByteStreams.AsReceivedStream"/>) returns it once the chunk
    /// is consumed, so bulk transfers do not allocate a byte per byte moved. When the bytes were
    /// received into a <see cref="RetainableBuffer"/> (the shared-memory link's copy out of its
    /// window) and fill at least half of it, the chunk is those bytes, held until the adapter releases
    /// them: one copy less per chunk.
    /// </remarks>
    public ReadOnlyMemory<byte> Deserialize(ref MessagePackReader reader)
    {
        var rest = reader.ReadRaw(reader.Sequence.Length - reader.Consumed);
        var length = checked((int)rest.Length);
        if (length == 0)
        {
            return ReadOnlyMemory<byte>.Empty;
        }

        if (rest.IsSingleSegment
            && MemoryMarshal.TryGetMemoryManager(rest.First, out RetainableBuffer? received, out var start, out _)
            && received.TryRetain(length))
        {
            return received.Memory.Slice(start, length);
        }

        var array = System.Buffers.ArrayPool<byte>.Shared.Rent(length);
        System.Buffers.BuffersExtensions.CopyTo(rest, array);
        return array.AsMemory(0, length);
    }
}
