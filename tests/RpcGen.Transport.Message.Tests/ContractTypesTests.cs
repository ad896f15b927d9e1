using System.Collections;
using System.Collections.Concurrent;
using System.Collections.Immutable;
using System.Numerics;

namespace RpcGen.Transport.Message.Tests;

/// <summary>Values of the types users put in DTOs come back equal over a real link.</summary>
public class ContractTypesTests
{
    private static readonly TimeSpan Timeout = TransportFixture.Timeout;

    private static async Task<T> OverLinkAsync<T>(string transport, Func<IContractTypesService, Task<T>> call)
    {
        var server = new RpcServer(new RpcServerOptions());
        server.AddService<IContractTypesService>(new ContractTypesService());
        await server.StartAsync(TransportFixture.NewAddress(transport));
        try
        {
            await using var client = await RpcClient.ConnectAsync(server.Addresses[0]).WaitAsync(Timeout);
            return await call(client.GetService<IContractTypesService>()).WaitAsync(Timeout);
        }
        finally
        {
            await server.StopAsync(TimeSpan.FromSeconds(5)).WaitAsync(Timeout);
        }
    }

    [Theory]
    [InlineData("tcp")]
    [InlineData("unix")]
    public async Task DateTime_keeps_its_kind(string transport)
    {
        var sent = new Moments(
            new DateTime(2026, 3, 1, 8, 30, 15, 123, DateTimeKind.Utc).AddTicks(4567),
            new DateTime(2026, 7, 14, 23, 59, 59, 999, DateTimeKind.Local),
            new DateTime(2026, 1, 2, 3, 4, 5, DateTimeKind.Unspecified),
            new DateTime(2000, 2, 29, 0, 0, 0, DateTimeKind.Local),
            [DateTime.SpecifyKind(DateTime.MinValue, DateTimeKind.Unspecified), DateTime.SpecifyKind(DateTime.MaxValue, DateTimeKind.Utc)]);

        var received = await OverLinkAsync(transport, service => service.EchoMomentsAsync(sent));

        Assert.Equal(sent with { Many = received.Many }, received);
        Assert.Equal(sent.Many, received.Many);
        Assert.Equal(DateTimeKind.Utc, received.Utc.Kind);
        Assert.Equal(DateTimeKind.Local, received.Local.Kind);
        Assert.Equal(DateTimeKind.Unspecified, received.Unspecified.Kind);
        Assert.Equal(DateTimeKind.Local, received.Maybe!.Value.Kind);
        Assert.Equal([DateTimeKind.Unspecified, DateTimeKind.Utc], received.Many.Select(m => m.Kind));
    }

    [Theory]
    [InlineData("tcp")]
    [InlineData("unix")]
    public async Task Every_framework_type_in_the_type_table_comes_back_equal(string transport)
    {
        var sent = new Everything
        {
            Day = new DateOnly(2026, 2, 28),
            Time = new TimeOnly(23, 59, 58, 123).Add(TimeSpan.FromTicks(4567)),
            Big = BigInteger.Pow(-7, 61),
            Address = new Uri("https://example.com/a?b=c#d"),
            Relative = new Uri("../up/there", UriKind.Relative),
            Version = new Version(1, 2, 3, 4),
            Half = (Half)1.5,
            Int128 = Int128.MinValue + 3,
            UInt128 = UInt128.MaxValue - 5,
            ReadOnlyMemory = new byte[] { 1, 2, 3 },
            Memory = new byte[] { 4, 5 },
            Segment = new ArraySegment<byte>([9, 8, 7, 6], 1, 2),
            Bits = new BitArray([true, false, true, true, false]),
            HashSet = ["a", "b"],
            Set = new HashSet<int> { 3, 1 },
            ReadOnlySet = new HashSet<Tint> { Tint.Green },
            SortedSet = [5, 1, 3],
            SortedDictionary = new() { ["z"] = 1, ["a"] = 2 },
            SortedList = new() { [2] = "two", [1] = "one" },
            Queue = new(["first", "second"]),
            Stack = new([1, 2, 3]),
            LinkedList = new(["x", "y"]),
            Concurrent = new(new Dictionary<string, Coordinates> { ["home"] = new(48.2, 16.37) }),
            ImmutableArray = [1, 1, 2],
            ImmutableList = ["p", "q"],
            ImmutableListInterface = ImmutableList.Create(7, 8),
            ImmutableHashSet = ["only"],
            ImmutableSortedSet = [9, 4],
            ImmutableQueue = ImmutableQueue.Create(1, 2, 3),
            ImmutableStack = ImmutableStack.Create(1, 2, 3),
            ImmutableDictionary = ImmutableDictionary<string, int>.Empty.Add("k", 1),
            ImmutableSortedDictionary = ImmutableSortedDictionary<string, int>.Empty.Add("b", 2).Add("a", 1),
            Pair = (42, "answer"),
            Wide = (1, "two", true, 4.5, 5L, 'c', 7, 8),
            Tuple = System.Tuple.Create(3, "three"),
            Entry = new KeyValuePair<string, int>("key", 11),
            Lazy = new Lazy<string>(() => "computed"),
            MaybeWhere = new Coordinates(1, 2),
            MaybeDay = null,
            Nested = [new() { ["set"] = [1, 2] }],
        };

        var received = await OverLinkAsync(transport, service => service.EchoEverythingAsync(sent));

        Assert.Equal(sent.Day, received.Day);
        Assert.Equal(sent.Time, received.Time);
        Assert.Equal(sent.Big, received.Big);
        Assert.Equal(sent.Address, received.Address);
        Assert.Equal(sent.Relative, received.Relative);
        Assert.False(received.Relative!.IsAbsoluteUri);
        Assert.Equal(sent.Version, received.Version);
        Assert.Equal(sent.Half, received.Half);
        Assert.Equal(sent.Int128, received.Int128);
        Assert.Equal(sent.UInt128, received.UInt128);
        Assert.Equal(sent.ReadOnlyMemory.ToArray(), received.ReadOnlyMemory.ToArray());
        Assert.Equal(sent.Memory.ToArray(), received.Memory.ToArray());
        Assert.Equal(sent.Segment.ToArray(), received.Segment.ToArray());
        Assert.Equal(sent.Bits.Cast<bool>(), received.Bits!.Cast<bool>());
        Assert.Equal(sent.HashSet, received.HashSet);
        Assert.True(sent.Set.SetEquals(received.Set!));
        Assert.True(sent.ReadOnlySet.SetEquals(received.ReadOnlySet!));
        Assert.Equal(sent.SortedSet, received.SortedSet);
        Assert.Equal(sent.SortedDictionary, received.SortedDictionary);
        Assert.Equal(sent.SortedList, received.SortedList);
        Assert.Equal(sent.Queue, received.Queue);
        Assert.Equal(3, received.Stack!.Peek());
        Assert.Equal(sent.Stack, received.Stack);
        Assert.Equal(sent.LinkedList, received.LinkedList);
        Assert.Equal(sent.Concurrent.OrderBy(p => p.Key), received.Concurrent!.OrderBy(p => p.Key));
        Assert.Equal(sent.ImmutableArray, received.ImmutableArray);
        Assert.Equal(sent.ImmutableList, received.ImmutableList);
        Assert.Equal(sent.ImmutableListInterface, received.ImmutableListInterface);
        Assert.Equal(sent.ImmutableHashSet, received.ImmutableHashSet);
        Assert.Equal(sent.ImmutableSortedSet, received.ImmutableSortedSet);
        Assert.Equal(sent.ImmutableQueue, received.ImmutableQueue);
        Assert.Equal(3, received.ImmutableStack!.Peek());
        Assert.Equal(sent.ImmutableStack, received.ImmutableStack);
        Assert.Equal(sent.ImmutableDictionary, received.ImmutableDictionary);
        Assert.Equal(sent.ImmutableSortedDictionary, received.ImmutableSortedDictionary);
        Assert.Equal(sent.Pair, received.Pair);
        Assert.Equal(sent.Wide, received.Wide);
        Assert.Equal(sent.Tuple, received.Tuple);
        Assert.Equal(sent.Entry, received.Entry);
        Assert.Equal("computed", received.Lazy!.Value);
        Assert.Equal(sent.MaybeWhere, received.MaybeWhere);
        Assert.Null(received.MaybeDay);
        Assert.Equal([1, 2], received.Nested![0]["set"]);
    }

    [Fact]
    public async Task Empty_and_null_collections_and_a_default_ImmutableArray_come_back_as_sent()
    {
        var sent = new Everything { ImmutableArray = default, ImmutableQueue = ImmutableQueue<int>.Empty, HashSet = [] };

        var received = await OverLinkAsync("tcp", service => service.EchoEverythingAsync(sent));

        Assert.True(received.ImmutableArray.IsDefault);
        Assert.True(received.ImmutableQueue!.IsEmpty);
        Assert.Empty(received.HashSet!);
        Assert.Null(received.Bits);
        Assert.Null(received.Lazy);
        Assert.Null(received.Tuple);
        Assert.Null(received.Address);
        Assert.Equal(default, received.Pair);
    }
}
