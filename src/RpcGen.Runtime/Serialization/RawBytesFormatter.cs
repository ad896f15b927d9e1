using MessagePack;

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
    public ReadOnlyMemory<byte> Deserialize(ref MessagePackReader reader)
    {
        var rest = reader.ReadRaw(reader.Sequence.Length - reader.Consumed);
        return System.Buffers.BuffersExtensions.ToArray(rest);
    }
}
