using System.Buffers;
using System.Buffers.Binary;

namespace RpcGen.Transport.Message;

/// <summary>The outcome of <c>FrameParser.TryParse</c>.</summary>
public enum FrameParseStatus
{
    /// <summary>A whole frame was parsed.</summary>
    Frame,

    /// <summary>More bytes are needed; nothing was consumed.</summary>
    Incomplete,

    /// <summary>The bytes are not a valid frame; the connection must be aborted with the error.</summary>
    Invalid,
}

/// <summary>
/// Parses frames from a byte sequence. Pure: no I/O, no allocation on the success path, so it is
/// tested without sockets. Everything is checked before anything is trusted: the magic, the kind,
/// the flags, and the declared length against the limit (before waiting for, let alone buffering,
/// the payload).
/// </summary>
public static class FrameParser
{
    /// <summary>The error for bytes that do not start with the frame magic.</summary>
    public static readonly string BadMagic = "The frame does not start with the RpcGen magic 'RG': the peer does not speak this protocol, or the stream is out of sync.";

    /// <summary>The error for an unknown frame kind.</summary>
    public static readonly string UnknownKind = "The frame kind is unknown.";

    /// <summary>The error for reserved flag bits that are set.</summary>
    public static readonly string UnsupportedFlags = "The frame sets flags this protocol version does not define.";

    /// <summary>The error for a codec id this version does not know.</summary>
    public static readonly string UnknownCodec = "The frame names a compression codec this version does not know.";

    /// <summary>The error for a compressed frame of a kind that carries no data.</summary>
    public static readonly string CompressedControlFrame = "Only request, response and stream item frames may be compressed.";

    /// <summary>The error for a metadata frame with flags set.</summary>
    public static readonly string FlaggedMetadata = "A metadata frame sets flags; it must set none (it is never compressed, and the frame after it says which call it belongs to).";

    /// <summary>Whether frames of <paramref name="kind"/> carry call data (and so may be compressed).</summary>
    public static bool CarriesData(FrameKind kind) =>
        kind is FrameKind.Request or FrameKind.OneWay or FrameKind.Response or FrameKind.StreamItem;

    /// <summary>Whether this version defines frames of <paramref name="kind"/>.</summary>
    public static bool IsKnown(FrameKind kind) =>
        kind is >= FrameKind.Request and <= FrameKind.Metadata;

    /// <summary>The error for a negative declared length.</summary>
    public static readonly string NegativeLength = "The frame declares a negative payload length.";

    /// <summary>
    /// The size, header included, that the frame starting <paramref name="buffer"/> declares, or 0
    /// while fewer than 8 bytes of it have arrived. Not validated: call after <c>TryParse</c>
    /// returned <see cref="FrameParseStatus.Incomplete"/>.
    /// </summary>
    public static long DeclaredFrameBytes(in ReadOnlySequence<byte> buffer)
    {
        if (buffer.Length < 8)
        {
            return 0;
        }

        Span<byte> prefix = stackalloc byte[8];
        buffer.Slice(0, 8).CopyTo(prefix);
        return FrameHeader.Size + (long)Math.Max(0, BinaryPrimitives.ReadInt32LittleEndian(prefix[4..]));
    }

    /// <summary>Tries to parse one frame, with no separate limit for <see cref="FrameKind.Metadata"/> frames.</summary>
    public static FrameParseStatus TryParse(
        in ReadOnlySequence<byte> buffer,
        int maxPayloadBytes,
        out FrameHeader header,
        out ReadOnlySequence<byte> payload,
        out SequencePosition consumed,
        out string? error) =>
        TryParse(buffer, maxPayloadBytes, maxPayloadBytes, out header, out payload, out consumed, out error);

    /// <summary>
    /// Tries to parse one frame at the start of <paramref name="buffer"/>.
    /// </summary>
    /// <param name="buffer">The received bytes.</param>
    /// <param name="maxPayloadBytes">The largest payload accepted; a larger declared length is <see cref="FrameParseStatus.Invalid"/>.</param>
    /// <param name="maxMetadataBytes">The largest payload a <see cref="FrameKind.Metadata"/> frame may declare (<see cref="RpcLimits.MaxMetadataBytes"/>).</param>
    /// <param name="header">The parsed header (valid for <see cref="FrameParseStatus.Frame"/>).</param>
    /// <param name="payload">The payload slice of <paramref name="buffer"/> (valid for <see cref="FrameParseStatus.Frame"/>).</param>
    /// <param name="consumed">The position after the frame (valid for <see cref="FrameParseStatus.Frame"/>).</param>
    /// <param name="error">Why the bytes are invalid (for <see cref="FrameParseStatus.Invalid"/>).</param>
    public static FrameParseStatus TryParse(
        in ReadOnlySequence<byte> buffer,
        int maxPayloadBytes,
        int maxMetadataBytes,
        out FrameHeader header,
        out ReadOnlySequence<byte> payload,
        out SequencePosition consumed,
        out string? error)
    {
        header = default;
        payload = default;
        consumed = buffer.Start;
        error = null;

        // Check the magic as soon as two bytes are here, so garbage is rejected without waiting
        // for a whole header.
        Span<byte> bytes = stackalloc byte[FrameHeader.Size];
        var available = (int)Math.Min(buffer.Length, FrameHeader.Size);
        buffer.Slice(0, available).CopyTo(bytes);
        if ((available >= 1 && bytes[0] != FrameHeader.Magic0) || (available >= 2 && bytes[1] != FrameHeader.Magic1))
        {
            error = BadMagic;
            return FrameParseStatus.Invalid;
        }

        if (available >= 3 && !IsKnown((FrameKind)bytes[2]))
        {
            error = UnknownKind;
            return FrameParseStatus.Invalid;
        }

        if (available >= 4 && (bytes[3] & ~(byte)FrameFlags.Defined) != 0)
        {
            error = UnsupportedFlags;
            return FrameParseStatus.Invalid;
        }

        if (available >= 4 && !RpcGen.Compression.RpcCodecs.IsDefined((RpcGen.Compression.RpcCompression)(bytes[3] & (byte)FrameFlags.CodecMask)))
        {
            error = UnknownCodec;
            return FrameParseStatus.Invalid;
        }

        if (available >= 4 && !RpcGen.Compression.RpcCodecs.IsDefined((RpcGen.Compression.RpcCompression)((bytes[3] & (byte)FrameFlags.ReplyCodecMask) >> 3)))
        {
            error = UnknownCodec;
            return FrameParseStatus.Invalid;
        }

        if (available >= 4 && (bytes[3] & (byte)FrameFlags.CodecMask) != 0 && !CarriesData((FrameKind)bytes[2]))
        {
            error = CompressedControlFrame;
            return FrameParseStatus.Invalid;
        }

        if (available >= 4 && bytes[3] != 0 && bytes[2] == (byte)FrameKind.Metadata)
        {
            error = FlaggedMetadata;
            return FrameParseStatus.Invalid;
        }

        if (available >= 8)
        {
            var declared = BinaryPrimitives.ReadInt32LittleEndian(bytes[4..]);
            if (declared < 0)
            {
                error = NegativeLength;
                return FrameParseStatus.Invalid;
            }

            if (declared > maxPayloadBytes)
            {
                error = $"The frame declares a payload of {declared} bytes, over the limit of {maxPayloadBytes} bytes (RpcLimits.MaxFrameBytes).";
                return FrameParseStatus.Invalid;
            }

            if (declared > maxMetadataBytes && bytes[2] == (byte)FrameKind.Metadata)
            {
                error = $"The metadata frame declares {declared} bytes, over the limit of {maxMetadataBytes} bytes (RpcLimits.MaxMetadataBytes).";
                return FrameParseStatus.Invalid;
            }
        }

        if (available < FrameHeader.Size)
        {
            return FrameParseStatus.Incomplete;
        }

        var length = BinaryPrimitives.ReadInt32LittleEndian(bytes[4..]);
        if (buffer.Length - FrameHeader.Size < length)
        {
            return FrameParseStatus.Incomplete;
        }

        header = FrameHeader.Read(bytes);
        payload = buffer.Slice(FrameHeader.Size, length);
        consumed = payload.End;
        return FrameParseStatus.Frame;
    }
}
