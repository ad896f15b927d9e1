using System.Collections;
using System.Collections.Concurrent;
using System.Collections.Immutable;
using System.Numerics;

namespace RpcGen.Transport.Message.Tests;

/// <summary>A record holding one <see cref="DateTime"/> of each kind.</summary>
public sealed record Moments(DateTime Utc, DateTime Local, DateTime Unspecified, DateTime? Maybe, List<DateTime> Many);

public enum Tint
{
    Red,
    Green,
}

public readonly record struct Coordinates(double Latitude, double Longitude);

/// <summary>One member of every framework type RpcGen formats (the README's type table), beyond the primitives.</summary>
public sealed class Everything
{
    public DateOnly Day { get; set; }
    public TimeOnly Time { get; set; }
    public BigInteger Big { get; set; }
    public Uri? Address { get; set; }
    public Uri? Relative { get; set; }
    public Version? Version { get; set; }
    public Half Half { get; set; }
    public Int128 Int128 { get; set; }
    public UInt128 UInt128 { get; set; }
    public ReadOnlyMemory<byte> ReadOnlyMemory { get; set; }
    public Memory<byte> Memory { get; set; }
    public ArraySegment<byte> Segment { get; set; }
    public BitArray? Bits { get; set; }
    public HashSet<string>? HashSet { get; set; }
    public ISet<int>? Set { get; set; }
    public IReadOnlySet<Tint>? ReadOnlySet { get; set; }
    public SortedSet<int>? SortedSet { get; set; }
    public SortedDictionary<string, int>? SortedDictionary { get; set; }
    public SortedList<int, string>? SortedList { get; set; }
    public Queue<string>? Queue { get; set; }
    public Stack<int>? Stack { get; set; }
    public LinkedList<string>? LinkedList { get; set; }
    public ConcurrentDictionary<string, Coordinates>? Concurrent { get; set; }
    public ImmutableArray<int> ImmutableArray { get; set; }
    public ImmutableList<string>? ImmutableList { get; set; }
    public IImmutableList<int>? ImmutableListInterface { get; set; }
    public ImmutableHashSet<string>? ImmutableHashSet { get; set; }
    public ImmutableSortedSet<int>? ImmutableSortedSet { get; set; }
    public ImmutableQueue<int>? ImmutableQueue { get; set; }
    public ImmutableStack<int>? ImmutableStack { get; set; }
    public ImmutableDictionary<string, int>? ImmutableDictionary { get; set; }
    public ImmutableSortedDictionary<string, int>? ImmutableSortedDictionary { get; set; }
    public (int Id, string Name) Pair { get; set; }
    public (int, string, bool, double, long, char, byte, short) Wide { get; set; }
    public Tuple<int, string>? Tuple { get; set; }
    public KeyValuePair<string, int> Entry { get; set; }
    public Lazy<string>? Lazy { get; set; }
    public Coordinates? MaybeWhere { get; set; }
    public DateOnly? MaybeDay { get; set; }
    public List<Dictionary<string, HashSet<int>>>? Nested { get; set; }
}

/// <summary>Echoes values of the types users put in DTOs, so a test can compare what comes back.</summary>
[RpcService(0x5E57_0000_0000_0040)]
public interface IContractTypesService
{
    [RpcMethod(1)]
    Task<Moments> EchoMomentsAsync(Moments moments);

    [RpcMethod(2)]
    Task<Everything> EchoEverythingAsync(Everything everything);
}

/// <summary>Returns what it was given.</summary>
public sealed class ContractTypesService : IContractTypesService
{
    public Task<Moments> EchoMomentsAsync(Moments moments) => Task.FromResult(moments);

    public Task<Everything> EchoEverythingAsync(Everything everything) => Task.FromResult(everything);
}
