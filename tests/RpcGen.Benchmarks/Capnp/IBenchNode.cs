using RpcGen.Benchmarks.Contracts;

namespace RpcGen.Benchmarks.Capnp;

/// <summary>
/// <c>BenchNode</c> of <c>Native/bench.capnp</c> as a plain C# contract: the generator's Cap'n Proto
/// binding of it has the schema's interface id and method ordinals, and <see cref="SmallMessage"/>
/// lays out as <c>Small</c>, so the generated proxy also calls the C++ bench-server.
/// </summary>
[RpcService(BenchProtocol.NodeId)]
public interface IBenchNode
{
    /// <summary><c>echoSmall @0 (message :Small) -> (result :Small)</c>.</summary>
    [RpcMethod(BenchProtocol.EchoSmall)]
    Task<SmallMessage> EchoAsync(SmallMessage message);

    /// <summary><c>next @1 () -> (node :BenchNode)</c>: returned directly, so the caller gets a pipelined promise.</summary>
    [RpcMethod(BenchProtocol.Next)]
    IBenchNode Next();

    /// <summary><c>read @2 () -> (depth :Int64)</c>.</summary>
    [RpcMethod(BenchProtocol.Read)]
    Task<long> ReadAsync();

    /// <summary><c>nextAwaited @3 () -> (node :BenchNode)</c>: the same node as <see cref="Next"/>, awaited before it is used.</summary>
    [RpcMethod(BenchProtocol.NextAwaited)]
    Task<IBenchNode> NextAsync();
}

/// <summary>The C# server of <see cref="IBenchNode"/> behind the generated binding: node <c>depth</c> of a chain.</summary>
public sealed class BenchNodeService(long depth) : IBenchNode
{
    /// <inheritdoc />
    public Task<SmallMessage> EchoAsync(SmallMessage message) => Task.FromResult(message);

    /// <inheritdoc />
    public IBenchNode Next() => new BenchNodeService(depth + 1);

    /// <inheritdoc />
    public Task<long> ReadAsync() => Task.FromResult(depth);

    /// <inheritdoc />
    public Task<IBenchNode> NextAsync() => Task.FromResult<IBenchNode>(new BenchNodeService(depth + 1));
}

/// <summary>The echo and the two chains as a user writes them against <see cref="IBenchNode"/> (the generated proxy).</summary>
public static class GeneratedProtocol
{
    /// <summary>One echo call through the interface.</summary>
    public static async ValueTask<SmallMessage> EchoAsync(IBenchNode node, SmallMessage message) =>
        await node.EchoAsync(message).ConfigureAwait(false);

    /// <summary><c>node.Next().Next().ReadAsync()</c>: the two promises are used at once, so all three calls leave before any answer.</summary>
    public static async ValueTask<long> ChainPipelinedAsync(IBenchNode root)
    {
        var first = root.Next();
        var second = first.Next();
        try
        {
            return await second.ReadAsync().ConfigureAwait(false);
        }
        finally
        {
            Release(second);
            Release(first);
        }
    }

    /// <summary><c>await (await (await node.NextAsync()).NextAsync()).ReadAsync()</c>: each call answered before the next is sent.</summary>
    public static async ValueTask<long> ChainAwaitedAsync(IBenchNode root)
    {
        var first = await root.NextAsync().ConfigureAwait(false);
        try
        {
            var second = await first.NextAsync().ConfigureAwait(false);
            try
            {
                return await second.ReadAsync().ConfigureAwait(false);
            }
            finally
            {
                Release(second);
            }
        }
        finally
        {
            Release(first);
        }
    }

    /// <summary>Drops a received node's reference now rather than when the proxy is collected.</summary>
    public static void Release(IBenchNode node) => (node as IDisposable)?.Dispose();
}
