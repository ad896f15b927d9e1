using System.Buffers;
using MessagePack;

namespace RpcGen.Transport.Message;

/// <summary>
/// The payload of <see cref="FrameKind.Error"/>, <see cref="FrameKind.Abort"/> and failed
/// <see cref="FrameKind.StreamEnd"/> frames: <c>[code, message]</c>, or <c>[code, message, detail]</c>
/// when the error has a <see cref="RpcException.Detail"/> (the detail in <see cref="MetadataPayload"/>'s
/// form). Readers ignore items past the ones they know, so a version that only knows the first two
/// reads the three-item form unchanged.
/// </summary>
internal static class ErrorPayload
{
    private const int MaxMessageChars = 4096;

    public static void Write(IBufferWriter<byte> output, RpcStatusCode code, string message) =>
        Write(output, code, message, encodedDetail: null);

    /// <summary>
    /// Writes an error with its detail. A detail over <see cref="RpcLimits.MaxMetadataEntries"/> or
    /// <see cref="RpcLimits.MaxMetadataBytes"/> is dropped, and the message says so: the caller still
    /// learns how the call failed.
    /// </summary>
    public static void Write(IBufferWriter<byte> output, RpcStatusCode code, string message, RpcMetadata? detail, RpcLimits limits)
    {
        byte[]? encoded = null;
        if (detail is { Count: > 0 })
        {
            var buffer = new ArrayBufferWriter<byte>();
            if (MetadataPayload.Write(buffer, detail, null, limits, "error detail") is null && buffer.WrittenCount <= limits.MaxMetadataBytes)
            {
                encoded = buffer.WrittenSpan.ToArray();
            }
            else
            {
                message += $" (its detail was dropped: over RpcLimits.MaxMetadataEntries ({limits.MaxMetadataEntries}) or MaxMetadataBytes ({limits.MaxMetadataBytes}))";
            }
        }

        Write(output, code, message, encoded);
    }

    /// <summary>Reads an error; a malformed one becomes a <see cref="RpcStatusCode.ProtocolError"/> describing that.</summary>
    public static RpcException Read(in ReadOnlySequence<byte> payload, int maxDetailEntries = 0)
    {
        try
        {
            var reader = new MessagePackReader(payload);
            var count = reader.ReadArrayHeader();
            if (count < 2)
            {
                return new RpcException(RpcStatusCode.ProtocolError, "The peer sent a malformed error.");
            }

            var code = reader.ReadInt32();
            var message = reader.ReadString() ?? string.Empty;
            if (code <= 0 || code > (int)RpcStatusCode.PermissionDenied)
            {
                code = (int)RpcStatusCode.Failed;
            }

            var detail = count >= 3 && maxDetailEntries > 0 && !reader.TryReadNil()
                ? MetadataPayload.Read(ref reader, maxDetailEntries, "error detail")
                : null;
            return new RpcException((RpcStatusCode)code, message) { Detail = detail };
        }
        // OverflowException: a code that does not fit an int (found by fuzzing). It escaped here once,
        // after the caller had taken the call from its table, so that call never completed.
        catch (Exception ex) when (ex is MessagePackSerializationException or EndOfStreamException or OverflowException)
        {
            return new RpcException(RpcStatusCode.ProtocolError, "The peer sent a malformed error.");
        }
        catch (ProtocolViolation ex)
        {
            return new RpcException(RpcStatusCode.ProtocolError, $"The peer sent an error with a malformed detail: {ex.Message}");
        }
    }

    private static void Write(IBufferWriter<byte> output, RpcStatusCode code, string message, byte[]? encodedDetail)
    {
        var writer = new MessagePackWriter(output);
        writer.WriteArrayHeader(encodedDetail is null ? 2 : 3);
        writer.Write((int)code);
        writer.Write(message.Length > MaxMessageChars ? message[..MaxMessageChars] : message);
        if (encodedDetail is not null)
        {
            writer.WriteRaw(encodedDetail);
        }

        writer.Flush();
    }
}
