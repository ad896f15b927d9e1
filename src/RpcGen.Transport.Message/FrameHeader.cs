using System.Buffers.Binary;

namespace RpcGen.Transport.Message;

/// <summary>
/// The fixed 32-byte header in front of every frame (all integers little-endian):
/// <code>
/// offset size field
///  0     2    magic 'R' 'G'
///  2     1    kind (<see cref="FrameKind"/>)
///  3     1    flags (<see cref="FrameFlags"/>; undefined bits must be zero)
///  4     4    payload length in bytes
///  8     4    call id (chosen by the caller, unique among its calls in flight)
/// 12     4    method id (requests); granted bytes (stream credit)
/// 16     8    service id (requests only)
/// 24     8    deadline: the caller's remaining time in microseconds (requests; 0 = none)
/// </code>
/// A call's headers or trailers travel in a <see cref="FrameKind.Metadata"/> frame with the call's id,
/// written immediately before its request or answer; its other fields are zero.
/// </summary>
public readonly record struct FrameHeader(FrameKind Kind, byte Flags, int PayloadLength, uint CallId, uint MethodId, ulong ServiceId, long DeadlineMicroseconds)
{
    /// <summary>The header size in bytes.</summary>
    public const int Size = 32;

    /// <summary>The first magic byte.</summary>
    public const byte Magic0 = (byte)'R';

    /// <summary>The second magic byte.</summary>
    public const byte Magic1 = (byte)'G';

    /// <summary>
    /// Reads the fields of a header from its first <see cref="Size"/> bytes, without validating
    /// them; <c>FrameParser.TryParse</c> is the validating entry point.
    /// </summary>
    public static FrameHeader Read(ReadOnlySpan<byte> source)
    {
        source = source[..Size];
        return new FrameHeader(
            (FrameKind)source[2],
            source[3],
            BinaryPrimitives.ReadInt32LittleEndian(source[4..]),
            BinaryPrimitives.ReadUInt32LittleEndian(source[8..]),
            BinaryPrimitives.ReadUInt32LittleEndian(source[12..]),
            BinaryPrimitives.ReadUInt64LittleEndian(source[16..]),
            BinaryPrimitives.ReadInt64LittleEndian(source[24..]));
    }

    /// <summary>Writes this header into the first <see cref="Size"/> bytes of <paramref name="destination"/>.</summary>
    public void Write(Span<byte> destination)
    {
        destination = destination[..Size];
        destination[0] = Magic0;
        destination[1] = Magic1;
        destination[2] = (byte)Kind;
        destination[3] = Flags;
        BinaryPrimitives.WriteInt32LittleEndian(destination[4..], PayloadLength);
        BinaryPrimitives.WriteUInt32LittleEndian(destination[8..], CallId);
        BinaryPrimitives.WriteUInt32LittleEndian(destination[12..], MethodId);
        BinaryPrimitives.WriteUInt64LittleEndian(destination[16..], ServiceId);
        BinaryPrimitives.WriteInt64LittleEndian(destination[24..], DeadlineMicroseconds);
    }
}
