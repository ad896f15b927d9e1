using System.Buffers;
using System.Buffers.Binary;

namespace RpcGen.Transport.Message;

/// <summary>
/// The payload of a <see cref="FrameKind.Hello"/> frame, the first frame each side sends
/// (all integers little-endian):
/// <code>
/// offset size field
///  0     4    magic 'R' 'G' 'H' 'I'
///  4     2    protocol version (<see cref="CurrentVersion"/>)
///  6     2    reserved, zero (ignored when read)
///  8     8    feature bits (none defined in version 1; unknown bits are ignored)
/// 16     4    the sender's RpcLimits.MaxFrameBytes: the largest payload it accepts
/// 20     4    the sender's RpcLimits.MaxPendingBytes (informative)
/// </code>
/// A payload may be longer than <see cref="MinSize"/> (later versions append fields, which this one
/// skips) but never longer than <see cref="MaxSize"/>.
/// </summary>
/// <param name="Version">The protocol version the sender speaks.</param>
/// <param name="Features">Feature bits; none are defined in version 1.</param>
/// <param name="MaxFrameBytes">The largest frame payload the sender accepts.</param>
/// <param name="MaxPendingBytes">The outbound bytes the sender holds for one connection before it waits.</param>
internal readonly record struct HelloPayload(ushort Version, ulong Features, int MaxFrameBytes, int MaxPendingBytes)
{
    /// <summary>The protocol version this implementation speaks.</summary>
    public const ushort CurrentVersion = 1;

    /// <summary>The size of a version-1 hello payload.</summary>
    public const int MinSize = 24;

    /// <summary>The largest hello payload accepted: a longer one is refused before it is read.</summary>
    public const int MaxSize = 256;

    private static ReadOnlySpan<byte> Magic => "RGHI"u8;

    /// <summary>The hello this side sends with <paramref name="limits"/>.</summary>
    public static HelloPayload For(RpcLimits limits) => new(CurrentVersion, 0, limits.MaxFrameBytes, limits.MaxPendingBytes);

    /// <summary>Appends the payload to <paramref name="output"/>.</summary>
    public void Write(IBufferWriter<byte> output)
    {
        var span = output.GetSpan(MinSize)[..MinSize];
        Magic.CopyTo(span);
        BinaryPrimitives.WriteUInt16LittleEndian(span[4..], Version);
        BinaryPrimitives.WriteUInt16LittleEndian(span[6..], 0);
        BinaryPrimitives.WriteUInt64LittleEndian(span[8..], Features);
        BinaryPrimitives.WriteInt32LittleEndian(span[16..], MaxFrameBytes);
        BinaryPrimitives.WriteInt32LittleEndian(span[20..], MaxPendingBytes);
        output.Advance(MinSize);
    }

    /// <summary>
    /// Reads a hello from an untrusted <paramref name="payload"/>: the length is checked before any
    /// field is read, and a malformed hello is an error, never an exception.
    /// </summary>
    /// <returns>Null when the payload is well formed; otherwise why it is not.</returns>
    public static string? TryRead(in ReadOnlySequence<byte> payload, out HelloPayload hello)
    {
        hello = default;
        if (payload.Length < MinSize)
        {
            return $"The hello is {payload.Length} bytes, shorter than the {MinSize} bytes of a version-1 hello.";
        }

        if (payload.Length > MaxSize)
        {
            return $"The hello is {payload.Length} bytes, over the limit of {MaxSize} bytes.";
        }

        Span<byte> span = stackalloc byte[MinSize];
        payload.Slice(0, MinSize).CopyTo(span);
        if (!span[..4].SequenceEqual(Magic))
        {
            return "The hello does not start with the magic 'RGHI'.";
        }

        var maxFrame = BinaryPrimitives.ReadInt32LittleEndian(span[16..]);
        var maxPending = BinaryPrimitives.ReadInt32LittleEndian(span[20..]);
        if (maxFrame <= 0 || maxPending <= 0)
        {
            return $"The hello declares limits that are not positive (max frame {maxFrame} bytes, max pending {maxPending} bytes).";
        }

        hello = new HelloPayload(
            BinaryPrimitives.ReadUInt16LittleEndian(span[4..]),
            BinaryPrimitives.ReadUInt64LittleEndian(span[8..]),
            maxFrame,
            maxPending);
        return null;
    }

    /// <summary>The error both sides report when the versions differ, worded the same on both.</summary>
    public static string VersionMismatch(ushort clientVersion, ushort serverVersion) =>
        $"Protocol version mismatch: the client speaks version {clientVersion}, the server speaks version {serverVersion}.";
}
