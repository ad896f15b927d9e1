using System.Buffers;
using System.Buffers.Binary;
using System.Text;

namespace RpcGen.Transport.Flow;

// Wire format. Every frame is a 10-byte header and a payload:
//
//   offset 0  kind     u8   FlowFrameKind
//   offset 1  flags    u8   FlowFrameFlags (Open and Data only)
//   offset 2  flow id  u32  little-endian; 0 for connection frames, non-zero for Open/Data/Reset
//   offset 6  length   u32  little-endian payload length, at most the receiver's MaxFrameBytes
//
// Payloads:
//   Setup        version u32, maxFrameBytes u32, windowBytes u32, sharedPoolBytes u32, maxFlows u32, nameLength u16, name (UTF-8)
//   SetupAck     empty
//   Open, Data   flow bytes (Open is the first frame of a flow, sent by the side that dialed it)
//   Release      n × (flow id u32, tokens u32); flow id 0 returns borrowed bytes to the shared pool
//   Reset        reason (UTF-8)
//   Ping, Pong   8 opaque bytes, echoed
//   LameDuck, LameDuckAck  empty
//   TearDown     code u8 (FlowErrorCode), reason (UTF-8)
//
// Invariant: the parser trusts nothing. It rejects an unknown kind or flag, a flow id where none
// belongs, and a declared length over the limit or wrong for the kind, as soon as the header is
// here and before waiting for (let alone buffering) the payload.

/// <summary>The kinds of flow frames.</summary>
public enum FlowFrameKind : byte
{
    /// <summary>This side's version and limits; the first frame each side sends.</summary>
    Setup = 1,

    /// <summary>This side authorized the peer; flows may open.</summary>
    SetupAck = 2,

    /// <summary>The first frame of a flow, with its first bytes.</summary>
    Open = 3,

    /// <summary>Bytes of an open flow.</summary>
    Data = 4,

    /// <summary>Credit released by a reader.</summary>
    Release = 5,

    /// <summary>A flow ends at once in both directions, with a reason.</summary>
    Reset = 6,

    /// <summary>A health check; answered with <see cref="Pong"/>.</summary>
    Ping = 7,

    /// <summary>The answer to a <see cref="Ping"/>.</summary>
    Pong = 8,

    /// <summary>The sender is closing: it opens and accepts no new flows.</summary>
    LameDuck = 9,

    /// <summary>The answer to <see cref="LameDuck"/>: the sender will open no more flows.</summary>
    LameDuckAck = 10,

    /// <summary>The connection ends, with a code and a reason.</summary>
    TearDown = 11,
}

/// <summary>Flags of <see cref="FlowFrameKind.Open"/> and <see cref="FlowFrameKind.Data"/> frames.</summary>
[Flags]
public enum FlowFrameFlags : byte
{
    /// <summary>No flag.</summary>
    None = 0,

    /// <summary>The sender's direction of the flow ends after this frame (half-close).</summary>
    End = 1,

    /// <summary>This frame ends a message (<see cref="Flow.WriteMessageAsync(ReadOnlyMemory{byte}, CancellationToken)"/>).</summary>
    MessageEnd = 2,

    /// <summary>The bytes were sent on credit borrowed from the connection's shared pool.</summary>
    Borrowed = 4,

    /// <summary>Every defined flag.</summary>
    Defined = End | MessageEnd | Borrowed,
}

/// <summary>A parsed frame header.</summary>
/// <param name="Kind">The frame kind.</param>
/// <param name="Flags">The flags (Open and Data only).</param>
/// <param name="FlowId">The flow, or 0 for connection frames.</param>
/// <param name="Length">The payload length.</param>
public readonly record struct FlowFrameHeader(FlowFrameKind Kind, FlowFrameFlags Flags, uint FlowId, int Length);

/// <summary>The outcome of <see cref="FlowFrames.TryParse"/>.</summary>
public enum FlowParseStatus
{
    /// <summary>A whole frame was parsed.</summary>
    Frame,

    /// <summary>More bytes are needed; nothing was consumed.</summary>
    Incomplete,

    /// <summary>The bytes are not a valid frame; the connection must close with the error.</summary>
    Invalid,
}

/// <summary>
/// Parses and writes flow frames. Pure: no I/O, so it is tested without sockets.
/// </summary>
public static class FlowFrames
{
    /// <summary>The header size in bytes.</summary>
    public const int HeaderSize = 10;

    /// <summary>The protocol version this implementation speaks.</summary>
    public const uint Version = 1;

    /// <summary>The fixed part of a setup payload.</summary>
    public const int SetupFixedSize = 22;

    /// <summary>The longest name a setup frame may carry, in bytes.</summary>
    public const int MaxNameBytes = 256;

    /// <summary>The longest reason a reset or teardown may carry, in bytes.</summary>
    public const int MaxReasonBytes = 1024;

    /// <summary>The error for an unknown frame kind.</summary>
    public static readonly string UnknownKind = "The frame kind is unknown: the peer does not speak the flow protocol, or the stream is out of sync.";

    /// <summary>The error for flags this version does not define, or flags on a frame that takes none.</summary>
    public static readonly string BadFlags = "The frame sets flags this version does not define, or sets flags on a frame kind that takes none.";

    /// <summary>The error for a flow id on a connection frame, or none on a flow frame.</summary>
    public static readonly string BadFlowId = "The frame's flow id does not fit its kind (connection frames carry 0, flow frames a non-zero id).";

    /// <summary>The error for a declared length over the limit.</summary>
    public static readonly string Oversized = "The frame declares a payload larger than this side's MaxFrameBytes.";

    /// <summary>The error for a length that does not fit the frame kind.</summary>
    public static readonly string BadLength = "The frame's payload length does not fit its kind.";

    /// <summary>
    /// Tries to parse one frame at the start of <paramref name="buffer"/>; <paramref name="payload"/>
    /// is a slice of it and <paramref name="consumed"/> the position after the frame.
    /// </summary>
    public static FlowParseStatus TryParse(
        in ReadOnlySequence<byte> buffer,
        int maxPayloadBytes,
        out FlowFrameHeader header,
        out ReadOnlySequence<byte> payload,
        out SequencePosition consumed,
        out string? error)
    {
        header = default;
        payload = default;
        consumed = buffer.Start;
        error = null;
        if (buffer.Length < HeaderSize)
        {
            // Reject an unknown kind at the first byte, so garbage does not wait for a whole header.
            if (!buffer.IsEmpty && !IsKnown((FlowFrameKind)buffer.FirstSpan[0]))
            {
                error = UnknownKind;
                return FlowParseStatus.Invalid;
            }

            return FlowParseStatus.Incomplete;
        }

        Span<byte> bytes = stackalloc byte[HeaderSize];
        buffer.Slice(0, HeaderSize).CopyTo(bytes);
        var kind = (FlowFrameKind)bytes[0];
        var flags = (FlowFrameFlags)bytes[1];
        var flowId = BinaryPrimitives.ReadUInt32LittleEndian(bytes[2..]);
        var length = BinaryPrimitives.ReadUInt32LittleEndian(bytes[6..]);
        error = Check(kind, flags, flowId, length, maxPayloadBytes);
        if (error is not null)
        {
            return FlowParseStatus.Invalid;
        }

        if (buffer.Length - HeaderSize < length)
        {
            return FlowParseStatus.Incomplete;
        }

        header = new FlowFrameHeader(kind, flags, flowId, (int)length);
        payload = buffer.Slice(HeaderSize, length);
        consumed = payload.End;
        return FlowParseStatus.Frame;
    }

    private static bool IsKnown(FlowFrameKind kind) => kind is >= FlowFrameKind.Setup and <= FlowFrameKind.TearDown;

    private static string? Check(FlowFrameKind kind, FlowFrameFlags flags, uint flowId, uint length, int maxPayloadBytes)
    {
        if (!IsKnown(kind))
        {
            return UnknownKind;
        }

        var isFlowData = kind is FlowFrameKind.Open or FlowFrameKind.Data;
        if ((flags & ~FlowFrameFlags.Defined) != 0 || (!isFlowData && flags != FlowFrameFlags.None))
        {
            return BadFlags;
        }

        if ((flowId != 0) != (isFlowData || kind == FlowFrameKind.Reset))
        {
            return BadFlowId;
        }

        if (length > (uint)maxPayloadBytes)
        {
            return Oversized;
        }

        var fits = kind switch
        {
            FlowFrameKind.Setup => length is >= SetupFixedSize and <= SetupFixedSize + MaxNameBytes,
            FlowFrameKind.SetupAck or FlowFrameKind.LameDuck or FlowFrameKind.LameDuckAck => length == 0,
            FlowFrameKind.Release => length > 0 && length % 8 == 0,
            FlowFrameKind.Reset => length <= MaxReasonBytes,
            FlowFrameKind.Ping or FlowFrameKind.Pong => length == 8,
            FlowFrameKind.TearDown => length is >= 1 and <= MaxReasonBytes + 1,
            _ => true,
        };
        return fits ? null : BadLength;
    }

    /// <summary>Writes a header into the first <see cref="HeaderSize"/> bytes of <paramref name="destination"/>.</summary>
    public static void WriteHeader(Span<byte> destination, FlowFrameHeader header)
    {
        destination[0] = (byte)header.Kind;
        destination[1] = (byte)header.Flags;
        BinaryPrimitives.WriteUInt32LittleEndian(destination[2..], header.FlowId);
        BinaryPrimitives.WriteUInt32LittleEndian(destination[6..], (uint)header.Length);
    }

    /// <summary>A whole frame with a small payload, as one array.</summary>
    public static byte[] Build(FlowFrameKind kind, uint flowId, ReadOnlySpan<byte> payload, FlowFrameFlags flags = FlowFrameFlags.None)
    {
        var frame = new byte[HeaderSize + payload.Length];
        WriteHeader(frame, new FlowFrameHeader(kind, flags, flowId, payload.Length));
        payload.CopyTo(frame.AsSpan(HeaderSize));
        return frame;
    }

    // ─── Setup ────────────────────────────────────────────────────────────

    /// <summary>A setup frame announcing this side's limits and name.</summary>
    public static byte[] BuildSetup(FlowSetup setup)
    {
        var name = Encoding.UTF8.GetBytes(setup.Name ?? string.Empty);
        if (name.Length > MaxNameBytes)
        {
            throw new FlowException(FlowErrorCode.BadArg, $"The connection name is longer than {MaxNameBytes} bytes.");
        }

        var payload = new byte[SetupFixedSize + name.Length];
        BinaryPrimitives.WriteUInt32LittleEndian(payload, setup.Version);
        BinaryPrimitives.WriteUInt32LittleEndian(payload.AsSpan(4), (uint)setup.MaxFrameBytes);
        BinaryPrimitives.WriteUInt32LittleEndian(payload.AsSpan(8), (uint)setup.WindowBytes);
        BinaryPrimitives.WriteUInt32LittleEndian(payload.AsSpan(12), (uint)setup.SharedPoolBytes);
        BinaryPrimitives.WriteUInt32LittleEndian(payload.AsSpan(16), (uint)setup.MaxFlows);
        BinaryPrimitives.WriteUInt16LittleEndian(payload.AsSpan(20), (ushort)name.Length);
        name.CopyTo(payload.AsSpan(SetupFixedSize));
        return Build(FlowFrameKind.Setup, 0, payload);
    }

    /// <summary>Reads a setup payload; null with <paramref name="error"/> when it is malformed.</summary>
    public static FlowSetup? ReadSetup(in ReadOnlySequence<byte> payload, out string? error)
    {
        error = null;
        if (payload.Length < SetupFixedSize || payload.Length > SetupFixedSize + MaxNameBytes)
        {
            error = BadLength;
            return null;
        }

        Span<byte> bytes = stackalloc byte[SetupFixedSize + MaxNameBytes];
        bytes = bytes[..(int)payload.Length];
        payload.CopyTo(bytes);
        var version = BinaryPrimitives.ReadUInt32LittleEndian(bytes);
        var maxFrame = BinaryPrimitives.ReadUInt32LittleEndian(bytes[4..]);
        var window = BinaryPrimitives.ReadUInt32LittleEndian(bytes[8..]);
        var shared = BinaryPrimitives.ReadUInt32LittleEndian(bytes[12..]);
        var maxFlows = BinaryPrimitives.ReadUInt32LittleEndian(bytes[16..]);
        var nameLength = BinaryPrimitives.ReadUInt16LittleEndian(bytes[20..]);
        if (SetupFixedSize + nameLength != bytes.Length)
        {
            error = "The setup frame's name length does not match its payload.";
            return null;
        }

        if (maxFrame is < 256 or > int.MaxValue || window is < 256 or > int.MaxValue || shared > int.MaxValue || maxFlows is 0 or > int.MaxValue)
        {
            error = "The setup frame announces limits out of range.";
            return null;
        }

        string name;
        try
        {
            name = new UTF8Encoding(false, throwOnInvalidBytes: true).GetString(bytes[SetupFixedSize..]);
        }
        catch (DecoderFallbackException)
        {
            error = "The setup frame's name is not UTF-8.";
            return null;
        }

        return new FlowSetup(version, (int)maxFrame, (int)window, (int)shared, (int)maxFlows, name);
    }

    // ─── Release ──────────────────────────────────────────────────────────

    /// <summary>Reads the <paramref name="index"/>th (flow id, tokens) pair of a release payload.</summary>
    public static (uint FlowId, uint Tokens) ReadRelease(in ReadOnlySequence<byte> payload, int index)
    {
        Span<byte> pair = stackalloc byte[8];
        payload.Slice(index * 8L, 8).CopyTo(pair);
        return (BinaryPrimitives.ReadUInt32LittleEndian(pair), BinaryPrimitives.ReadUInt32LittleEndian(pair[4..]));
    }

    /// <summary>Appends one (flow id, tokens) pair to a release payload.</summary>
    public static void WriteRelease(Span<byte> destination, uint flowId, uint tokens)
    {
        BinaryPrimitives.WriteUInt32LittleEndian(destination, flowId);
        BinaryPrimitives.WriteUInt32LittleEndian(destination[4..], tokens);
    }

    // ─── Reset and TearDown ───────────────────────────────────────────────

    /// <summary>A reset frame for <paramref name="flowId"/> with <paramref name="reason"/> (cut to <see cref="MaxReasonBytes"/>).</summary>
    public static byte[] BuildReset(uint flowId, string reason) => Build(FlowFrameKind.Reset, flowId, Reason(reason));

    /// <summary>A teardown frame with a code and a reason.</summary>
    public static byte[] BuildTearDown(FlowErrorCode code, string reason)
    {
        var text = Reason(reason);
        var payload = new byte[1 + text.Length];
        payload[0] = (byte)code;
        text.CopyTo(payload, 1);
        return Build(FlowFrameKind.TearDown, 0, payload);
    }

    /// <summary>Reads a teardown payload: the code (<see cref="FlowErrorCode.Network"/> when unknown) and the reason.</summary>
    public static (FlowErrorCode Code, string Reason) ReadTearDown(in ReadOnlySequence<byte> payload)
    {
        var first = payload.FirstSpan[0];
        var code = FlowTearDownCodes.IsDefined(first) ? (FlowErrorCode)first : FlowErrorCode.Network;
        return (code, ReadText(payload.Slice(1)));
    }

    /// <summary>Decodes a reason, replacing invalid UTF-8.</summary>
    public static string ReadText(in ReadOnlySequence<byte> payload) => Encoding.UTF8.GetString(payload);

    private static byte[] Reason(string reason)
    {
        var bytes = Encoding.UTF8.GetBytes(reason);
        return bytes.Length <= MaxReasonBytes ? bytes : bytes.AsSpan(0, MaxReasonBytes).ToArray();
    }
}

/// <summary>What a side announces in its setup frame.</summary>
/// <param name="Version">The protocol version.</param>
/// <param name="MaxFrameBytes">The largest payload it accepts.</param>
/// <param name="WindowBytes">The window it grants each flow.</param>
/// <param name="SharedPoolBytes">What the other side's new flows may borrow before a window is granted.</param>
/// <param name="MaxFlows">Flows it allows open at once.</param>
/// <param name="Name">A name it gives itself; not authenticated on plain links.</param>
public sealed record FlowSetup(uint Version, int MaxFrameBytes, int WindowBytes, int SharedPoolBytes, int MaxFlows, string Name);
