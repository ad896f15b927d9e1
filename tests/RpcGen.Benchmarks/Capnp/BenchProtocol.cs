using RpcGen.Benchmarks.Contracts;
using RpcGen.Capnp;

namespace RpcGen.Benchmarks.Capnp;

/// <summary>
/// <c>Native/bench.capnp</c> written by hand for the low-level API: the interface and method ids and
/// the field layout <c>capnp compile -ocapnp bench.capnp</c> prints, and the two ways a client calls it.
/// </summary>
public static class BenchProtocol
{
    /// <summary>The id of <c>BenchNode</c>, fixed in the schema.</summary>
    public const ulong NodeId = 0xe3a1c2b4d5f60718;

    /// <summary><c>echoSmall @0 (message :Small) -> (result :Small)</c>: params and results are one-pointer structs, as the generated binding of <see cref="IBenchNode"/> has them.</summary>
    public const ushort EchoSmall = 0;

    /// <summary><c>next @1 () -> (node :BenchNode)</c>: the node one deeper.</summary>
    public const ushort Next = 1;

    /// <summary><c>read @2 () -> (depth :Int64)</c>.</summary>
    public const ushort Read = 2;

    /// <summary><c>nextAwaited @3 () -> (node :BenchNode)</c>: what <see cref="IBenchNode.NextAsync"/> calls (a contract method has one ordinal).</summary>
    public const ushort NextAwaited = 3;

    /// <summary>The depth <c>root.next().next().read()</c> returns.</summary>

    /// <summary><c>nextTracked @4 () -> (node :BenchNode)</c>: a node whose release the server tracks.</summary>
    public const ushort NextTracked = 4;

    /// <summary><c>waitDropped @5 () -> ()</c>: returns once no tracked node is alive on the server.</summary>
    public const ushort WaitDropped = 5;

    public const long ChainDepth = 2;

    // Small: id bits [0, 32), flag bit 32, value bits [64, 128), timestamp bits [128, 192), name ptr[0].
    private const ushort SmallDataWords = 3;
    private const ushort SmallPointers = 1;
    private const int IdOffset = 0;
    private const int FlagBit = 32;
    private const int ValueOffset = 1;
    private const int TimestampOffset = 2;
    private const int NamePointer = 0;

    /// <summary>Initializes <paramref name="target"/> as a <c>Small</c> holding <paramref name="message"/>.</summary>
    public static void WriteSmall(PointerBuilder target, SmallMessage message)
    {
        var small = target.InitStruct(SmallDataWords, SmallPointers);
        small.WriteInt32(IdOffset, message.Id);
        small.WriteBool(FlagBit, message.Flag);
        small.WriteFloat64(ValueOffset, message.Value);
        small.WriteInt64(TimestampOffset, message.Timestamp);
        small.WriteText(NamePointer, message.Name);
    }

    /// <summary>Reads a <c>Small</c> into a new <see cref="SmallMessage"/>, as a generated reader would.</summary>
    public static SmallMessage ReadSmall(StructReader small) => new()
    {
        Id = small.ReadInt32(IdOffset),
        Name = small.ReadText(NamePointer) ?? string.Empty,
        Value = small.ReadFloat64(ValueOffset),
        Timestamp = small.ReadInt64(TimestampOffset),
        Flag = small.ReadBool(FlagBit),
    };

    /// <summary>One <c>echoSmall</c> call: the request written from <paramref name="message"/>, the answer read back into a new object.</summary>
    public static async ValueTask<SmallMessage> EchoAsync(Capability node, SmallMessage message)
    {
        using var request = node.NewRequest(NodeId, EchoSmall);
        WriteSmall(request.InitParams(0, 1).GetPointer(0), message);
        using var promise = request.Send();
        using var response = await promise.Response.ConfigureAwait(false);
        return ReadSmall(response.Results.ReadStruct(0));
    }

    /// <summary>
    /// <c>root.next().next().read()</c> with each call sent on the previous one's pipelined
    /// capability: all three leave before any answer comes back, and only the last is awaited.
    /// </summary>
    public static async ValueTask<long> ChainPipelinedAsync(Capability root)
    {
        using var first = Send(root, Next);
        using var firstNode = first.GetPipelinedCapability(0);
        using var second = Send(firstNode, Next);
        using var secondNode = second.GetPipelinedCapability(0);
        using var read = Send(secondNode, Read);
        using var response = await read.Response.ConfigureAwait(false);
        return response.Results.ReadInt64(0);
    }

    /// <summary>The same three calls, each awaited (and its capability read from the results) before the next is sent.</summary>
    public static async ValueTask<long> ChainAwaitedAsync(Capability root)
    {
        using var firstNode = await NextAsync(root).ConfigureAwait(false);
        using var secondNode = await NextAsync(firstNode).ConfigureAwait(false);
        using var read = Send(secondNode, Read);
        using var response = await read.Response.ConfigureAwait(false);
        return response.Results.ReadInt64(0);
    }

    private static async ValueTask<Capability> NextAsync(Capability node)
    {
        using var promise = Send(node, Next);
        using var response = await promise.Response.ConfigureAwait(false);
        return response.Results.ReadCapability(0) ?? throw new InvalidDataException("next() returned no node.");
    }

    private static CallPromise Send(Capability target, ushort method)
    {
        using var request = target.NewRequest(NodeId, method);
        request.InitParams(0, 0);
        return request.Send();
    }
}
