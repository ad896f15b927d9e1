using System.Buffers;
using MessagePack;

namespace RpcGen.Transport.Message;

/// <summary>The payload of <see cref="FrameKind.Error"/> and <see cref="FrameKind.Abort"/> frames: <c>[code, message]</c>.</summary>
internal static class ErrorPayload
{
    private const int MaxMessageChars = 4096;

    public static void Write(IBufferWriter<byte> output, RpcStatusCode code, string message)
    {
        var writer = new MessagePackWriter(output);
        writer.WriteArrayHeader(2);
        writer.Write((int)code);
        writer.Write(message.Length > MaxMessageChars ? message[..MaxMessageChars] : message);
        writer.Flush();
    }

    /// <summary>Reads an error; a malformed one becomes a <see cref="RpcStatusCode.ProtocolError"/> describing that.</summary>
    public static RpcException Read(in ReadOnlySequence<byte> payload)
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

            return new RpcException((RpcStatusCode)code, message);
        }
        catch (Exception ex) when (ex is MessagePackSerializationException or EndOfStreamException)
        {
            return new RpcException(RpcStatusCode.ProtocolError, "The peer sent a malformed error.");
        }
    }
}
