using System.Buffers;
using MessagePack;

namespace RpcGen.Transport.Message;

/// <summary>
/// The payload of a <see cref="FrameKind.Metadata"/> frame, and the detail map of an error: a
/// MessagePack array <c>[key0, value0, key1, value1, …]</c> whose keys are strings and whose values
/// are strings, or bin for keys ending in <c>-bin</c>. A receiver checks the entry count against
/// <see cref="RpcLimits.MaxMetadataEntries"/> from the array header, before it reads any entry.
/// </summary>
internal static class MetadataPayload
{
    /// <summary>
    /// Writes <paramref name="first"/> then <paramref name="second"/> (either may be null) as one
    /// block; returns why it cannot be sent (over a limit) or null. The caller checks the encoded size.
    /// </summary>
    public static string? Write(IBufferWriter<byte> output, RpcMetadata? first, RpcMetadata? second, RpcLimits limits, string what)
    {
        var count = (first?.Count ?? 0) + (second?.Count ?? 0);
        if (count > limits.MaxMetadataEntries)
        {
            return $"The {what} hold {count} entries, over the limit of {limits.MaxMetadataEntries} (RpcLimits.MaxMetadataEntries).";
        }

        var writer = new MessagePackWriter(output);
        Write(ref writer, first, second, count);
        writer.Flush();
        return null;
    }

    /// <summary>Writes the entries of both sets into <paramref name="writer"/> as one array of <paramref name="count"/> pairs.</summary>
    public static void Write(ref MessagePackWriter writer, RpcMetadata? first, RpcMetadata? second, int count)
    {
        writer.WriteArrayHeader(count * 2);
        WriteEntries(ref writer, first);
        WriteEntries(ref writer, second);
    }

    /// <summary>Reads a block; a malformed or oversized one is the peer's protocol error.</summary>
    public static RpcMetadata Read(in ReadOnlySequence<byte> payload, int maxEntries, string what)
    {
        try
        {
            var reader = new MessagePackReader(payload);
            var metadata = Read(ref reader, maxEntries, what);
            if (!reader.End)
            {
                throw new ProtocolViolation($"The peer's {what} have bytes after their last entry.");
            }

            return metadata;
        }
        catch (Exception ex) when (ex is MessagePackSerializationException or EndOfStreamException)
        {
            throw new ProtocolViolation($"The peer sent malformed {what}: {ex.Message}");
        }
    }

    /// <summary>Reads a block from <paramref name="reader"/>; throws <see cref="ProtocolViolation"/> when it breaks the rules.</summary>
    public static RpcMetadata Read(ref MessagePackReader reader, int maxEntries, string what)
    {
        var items = reader.ReadArrayHeader();
        if (items % 2 != 0)
        {
            throw new ProtocolViolation($"The peer's {what} hold an odd number of items; they must be key/value pairs.");
        }

        if (items / 2 > maxEntries)
        {
            throw new ProtocolViolation($"The peer sent {items / 2} {what} entries, over the limit of {maxEntries} (RpcLimits.MaxMetadataEntries).");
        }

        var metadata = new RpcMetadata();
        for (var i = 0; i < items; i += 2)
        {
            if (reader.NextMessagePackType != MessagePackType.String)
            {
                throw new ProtocolViolation($"A key in the peer's {what} is not a string.");
            }

            var key = reader.ReadString();
            var binary = reader.NextMessagePackType switch
            {
                MessagePackType.Binary => true,
                MessagePackType.String => false,
                _ => throw new ProtocolViolation($"The value of '{key}' in the peer's {what} is neither a string nor bytes."),
            };
            if (RpcMetadata.KeyError(key, binary) is { } error)
            {
                throw new ProtocolViolation(error);
            }

            if (binary)
            {
                metadata.Add(key!, reader.ReadBytes()!.Value.ToArray());
            }
            else
            {
                metadata.Add(key!, reader.ReadString()!);
            }
        }

        return metadata;
    }

    private static void WriteEntries(ref MessagePackWriter writer, RpcMetadata? entries)
    {
        if (entries is null)
        {
            return;
        }

        foreach (var entry in entries)
        {
            writer.Write(entry.Key);
            if (entry.IsBinary)
            {
                writer.Write(entry.Bytes.Span);
            }
            else
            {
                writer.Write(entry.Text);
            }
        }
    }
}
