using System.Buffers.Binary;

namespace RpcGen.Benchmarks.Peers.Raw;

/// <summary>
/// The raw floor's framing: a 9-byte header (payload length, call id, method; little endian) and the
/// payload. The least a multiplexed request/response protocol can put on the wire.
/// </summary>
public static class RawFrame
{
    public const int HeaderSize = 9;

    /// <summary>Frames above this are a protocol error (the largest workload sends 64 KiB).</summary>
    public const int MaxPayload = 4 * 1024 * 1024;

    /// <summary>Reads a header; false when fewer than <see cref="HeaderSize"/> bytes are present.</summary>
    public static bool TryReadHeader(ReadOnlySpan<byte> data, out int payloadLength, out uint callId, out RawMethod method)
    {
        if (data.Length < HeaderSize)
        {
            payloadLength = 0;
            callId = 0;
            method = default;
            return false;
        }

        var length = BinaryPrimitives.ReadUInt32LittleEndian(data);
        if (length > MaxPayload)
        {
            throw new InvalidDataException($"A raw frame announced {length} bytes; the limit is {MaxPayload}.");
        }

        payloadLength = (int)length;
        callId = BinaryPrimitives.ReadUInt32LittleEndian(data[4..]);
        method = (RawMethod)data[8];
        return true;
    }
}
