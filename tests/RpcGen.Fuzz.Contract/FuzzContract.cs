using System.Collections;
using System.Collections.Immutable;
using System.Numerics;

namespace RpcGen.Fuzz;

/// <summary>
/// The contract the seed captures call and whose generated formatters the MessagePack harness reads:
/// <see cref="FuzzEnvelope"/> holds one member of (nearly) every shape the generator formats, so one
/// hostile payload reaches all of their readers.
/// </summary>
[RpcService]
public interface IFuzzContract
{
    /// <summary>Returns the envelope it was given (message transport).</summary>
    Task<FuzzEnvelope> EchoAsync(FuzzEnvelope envelope);

    /// <summary>Stores a record and returns it with a new revision (both transports).</summary>
    Task<FuzzRecord> StoreAsync(FuzzRecord record);

    /// <summary>Fails with the given message (an error frame for the capture).</summary>
    Task FailAsync(string message);
}

/// <summary>An enum member of the fuzz DTOs.</summary>
public enum FuzzColor
{
    /// <summary>Red.</summary>
    Red,

    /// <summary>Green.</summary>
    Green,

    /// <summary>Blue.</summary>
    Blue,
}

/// <summary>A record both transports carry (Cap'n Proto maps it to a struct).</summary>
/// <param name="Id">An integer.</param>
/// <param name="Name">Text.</param>
/// <param name="Blob">Bytes.</param>
/// <param name="Tags">A list of text.</param>
/// <param name="Color">An enum.</param>
/// <param name="Child">A nested struct (null allowed).</param>
/// <param name="Revision">A 64-bit number.</param>
public sealed record FuzzRecord(int Id, string Name, byte[] Blob, List<string> Tags, FuzzColor Color, FuzzChild? Child, long Revision);

/// <summary>A nested struct.</summary>
/// <param name="Score">A float.</param>
/// <param name="Flag">A bool.</param>
public sealed record FuzzChild(double Score, bool Flag);

/// <summary>A base with known subtypes (the <c>[tag, members]</c> form).</summary>
[RpcKnownType(typeof(FuzzCircle), 1)]
[RpcKnownType(typeof(FuzzSquare), 2)]
public abstract record FuzzShape;

/// <summary>A subtype.</summary>
/// <param name="Radius">Its radius.</param>
public sealed record FuzzCircle(double Radius) : FuzzShape;

/// <summary>Another subtype.</summary>
/// <param name="Side">Its side.</param>
/// <param name="Label">A label.</param>
public sealed record FuzzSquare(int Side, string? Label) : FuzzShape;

/// <summary>A value type DTO.</summary>
public struct FuzzPoint
{
    /// <summary>X.</summary>
    public int X { get; set; }

    /// <summary>Y.</summary>
    public int Y { get; set; }
}

/// <summary>One member of each shape the MessagePack formatters read.</summary>
/// <param name="Int">Scalars.</param>
/// <param name="ULong">An unsigned 64-bit number.</param>
/// <param name="MaybeLong">A nullable number.</param>
/// <param name="Char">A char.</param>
/// <param name="Half">A half.</param>
/// <param name="Decimal">A decimal (text on the wire).</param>
/// <param name="Text">Text.</param>
/// <param name="Bytes">Bytes.</param>
/// <param name="Memory">Memory.</param>
/// <param name="When">A time.</param>
/// <param name="WhenOffset">A time with offset.</param>
/// <param name="Duration">A duration.</param>
/// <param name="Date">A date.</param>
/// <param name="TimeOfDay">A time of day.</param>
/// <param name="Guid">A guid.</param>
/// <param name="Big128">A 128-bit number.</param>
/// <param name="BigInteger">An arbitrary-size number.</param>
/// <param name="Uri">A URI.</param>
/// <param name="Version">A version.</param>
/// <param name="Bits">Bits.</param>
/// <param name="Color">An enum.</param>
/// <param name="Point">A nullable struct.</param>
/// <param name="Records">A list of records.</param>
/// <param name="Numbers">An array.</param>
/// <param name="Names">A read-only list interface.</param>
/// <param name="Counts">A dictionary.</param>
/// <param name="Sorted">A sorted dictionary with nullable values.</param>
/// <param name="Set">A set.</param>
/// <param name="Queue">A queue.</param>
/// <param name="Immutable">An immutable array.</param>
/// <param name="ImmutableMap">An immutable dictionary.</param>
/// <param name="Pair">A tuple.</param>
/// <param name="Entry">A key-value pair.</param>
/// <param name="Shape">A polymorphic member.</param>
/// <param name="Shapes">A list of polymorphic members.</param>
/// <param name="Nested">A nested list.</param>
public sealed record FuzzEnvelope(
    int Int,
    ulong ULong,
    long? MaybeLong,
    char Char,
    Half Half,
    decimal Decimal,
    string? Text,
    byte[]? Bytes,
    ReadOnlyMemory<byte> Memory,
    DateTime When,
    DateTimeOffset WhenOffset,
    TimeSpan Duration,
    DateOnly Date,
    TimeOnly TimeOfDay,
    Guid Guid,
    Int128 Big128,
    BigInteger BigInteger,
    Uri? Uri,
    Version? Version,
    BitArray? Bits,
    FuzzColor Color,
    FuzzPoint? Point,
    List<FuzzRecord>? Records,
    int[]? Numbers,
    IReadOnlyList<string>? Names,
    Dictionary<string, int>? Counts,
    SortedDictionary<int, string?>? Sorted,
    HashSet<long>? Set,
    Queue<FuzzColor>? Queue,
    ImmutableArray<int> Immutable,
    ImmutableDictionary<string, FuzzChild>? ImmutableMap,
    (int Id, string Name) Pair,
    KeyValuePair<string, double> Entry,
    FuzzShape? Shape,
    List<FuzzShape>? Shapes,
    List<List<int>>? Nested);
