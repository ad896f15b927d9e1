using System.Buffers;
using MessagePack;

namespace RpcGen.Serialization;

/// <summary>Entry points for writing and reading payloads with an <see cref="IRpcFormatter{T}"/>.</summary>
public static class RpcSerializer
{
    /// <summary>
    /// The deepest nesting of arrays and maps a payload may have. Reading past it fails the call
    /// instead of overflowing the stack. Default 64.
    /// </summary>
    public static int MaxDepth { get; set; } = 64;

    /// <summary>Writes <paramref name="value"/> to <paramref name="output"/>.</summary>
    public static void Serialize<T>(IBufferWriter<byte> output, T value, IRpcFormatter<T> formatter)
    {
        var writer = new MessagePackWriter(output);
        formatter.Serialize(ref writer, value);
        writer.Flush();
    }

    /// <summary>Writes <paramref name="value"/> to a new array (for tests and tools; the transports write in place).</summary>
    public static byte[] Serialize<T>(T value, IRpcFormatter<T> formatter)
    {
        var buffer = new ArrayBufferWriter<byte>();
        Serialize(buffer, value, formatter);
        return buffer.WrittenSpan.ToArray();
    }

    /// <summary>
    /// Reads one value that must span all of <paramref name="payload"/>. Malformed input, trailing
    /// bytes or a breach of <see cref="MaxDepth"/> throw <see cref="RpcException"/> with
    /// <see cref="RpcStatusCode.InvalidPayload"/>.
    /// </summary>
    public static T Deserialize<T>(in ReadOnlySequence<byte> payload, IRpcFormatter<T> formatter)
    {
        var reader = new MessagePackReader(payload);
        T value;
        try
        {
            value = formatter.Deserialize(ref reader);
        }
        catch (Exception ex) when (ex is MessagePackSerializationException or EndOfStreamException or InvalidOperationException or OverflowException or ArgumentException or FormatException)
        {
            throw new RpcException(RpcStatusCode.InvalidPayload, $"The payload is not a valid {typeof(T).Name}: {ex.Message}", ex);
        }

        if (!reader.End)
        {
            throw new RpcException(RpcStatusCode.InvalidPayload, $"The payload has {payload.Length - reader.Consumed} bytes after its {typeof(T).Name}.");
        }

        return value;
    }

    /// <summary>Reads one value from <paramref name="payload"/>.</summary>
    public static T Deserialize<T>(ReadOnlyMemory<byte> payload, IRpcFormatter<T> formatter) =>
        Deserialize(new ReadOnlySequence<byte>(payload), formatter);

    /// <summary>Steps one level into a nested array or map; generated formatters call this and decrement <see cref="MessagePackReader.Depth"/> on the way out.</summary>
    public static void EnterNested(ref MessagePackReader reader)
    {
        if (++reader.Depth > MaxDepth)
        {
            throw new MessagePackSerializationException($"The payload nests deeper than {MaxDepth} levels.");
        }
    }
}
