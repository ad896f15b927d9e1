using System.Diagnostics;
using RpcGen.Benchmarks.Contracts;
using RpcGen.Benchmarks.Harness;

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

    /// <summary><c>nextTracked @4 () -> (node :BenchNode)</c>: a node whose release the server tracks (pipelined, as <see cref="Next"/>).</summary>
    [RpcMethod(BenchProtocol.NextTracked)]
    IBenchNode NextTracked();

    /// <summary><c>waitDropped @5 () -> ()</c>: completes once no node <see cref="NextTracked"/> made is alive on the server.</summary>
    [RpcMethod(BenchProtocol.WaitDropped)]
    Task WaitDroppedAsync();
}

/// <summary>
/// The C# server of <see cref="IBenchNode"/> behind the generated binding: node <c>depth</c> of a chain.
/// A node made by <see cref="NextTracked"/> tells <paramref name="tracker"/> when it is disposed, which
/// the generated server does when the last reference to it is released.
/// </summary>
public sealed class BenchNodeService(long depth, BenchNodeTracker? tracker = null, bool tracked = false) : IBenchNode, IDisposable
{
    private readonly BenchNodeTracker _tracker = tracker ?? new BenchNodeTracker();
    private int _disposed;

    /// <inheritdoc />
    public Task<SmallMessage> EchoAsync(SmallMessage message) => Task.FromResult(message);

    /// <inheritdoc />
    public IBenchNode Next() => new BenchNodeService(depth + 1, _tracker);

    /// <inheritdoc />
    public Task<long> ReadAsync() => Task.FromResult(depth);

    /// <inheritdoc />
    public Task<IBenchNode> NextAsync() => Task.FromResult<IBenchNode>(new BenchNodeService(depth + 1, _tracker));

    /// <inheritdoc />
    public IBenchNode NextTracked()
    {
        _tracker.Created();
        return new BenchNodeService(depth + 1, _tracker, tracked: true);
    }

    /// <inheritdoc />
    public Task WaitDroppedAsync() => _tracker.WhenNoneAliveAsync();

    /// <summary>The last reference to this node was released.</summary>
    public void Dispose()
    {
        if (tracked && Interlocked.Exchange(ref _disposed, 1) == 0)
        {
            _tracker.Dropped();
        }
    }
}

/// <summary>The tracked nodes of one chain that are alive, and a wait for none to be.</summary>
public sealed class BenchNodeTracker
{
    private readonly Lock _gate = new();
    private int _alive;
    private TaskCompletionSource? _noneAlive;

    /// <summary>A tracked node was made.</summary>
    public void Created()
    {
        lock (_gate)
        {
            _alive++;
        }
    }

    /// <summary>A tracked node was disposed.</summary>
    public void Dropped()
    {
        TaskCompletionSource? waiter = null;
        lock (_gate)
        {
            if (--_alive == 0)
            {
                (waiter, _noneAlive) = (_noneAlive, null);
            }
        }

        waiter?.TrySetResult();
    }

    /// <summary>Completes once no tracked node is alive.</summary>
    public Task WhenNoneAliveAsync()
    {
        lock (_gate)
        {
            return _alive == 0 ? Task.CompletedTask : (_noneAlive ??= new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously)).Task;
        }
    }
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

    /// <summary>
    /// Release latency, timed per operation: a tracked node is obtained (pipelined) and read, then its
    /// proxy is disposed and <c>WaitDroppedAsync</c> sent at once; the operation is dispose → that call's
    /// return, i.e. until the server has taken the release and disposed the node.
    /// </summary>
    public static async Task DropLoopAsync(IBenchNode root, CallerRecorder recorder)
    {
        while (recorder.ShouldContinue)
        {
            var node = root.NextTracked();
            await node.ReadAsync().ConfigureAwait(false);
            var start = Stopwatch.GetTimestamp();
            Release(node);
            await root.WaitDroppedAsync().ConfigureAwait(false);
            recorder.Record(start);
        }
    }

    /// <summary>Drops a received node's reference now rather than when the proxy is collected.</summary>
    public static void Release(IBenchNode node) => (node as IDisposable)?.Dispose();
}
