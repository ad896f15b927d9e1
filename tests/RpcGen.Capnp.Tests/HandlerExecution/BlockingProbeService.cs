using System.Collections.Concurrent;

namespace RpcGen.Capnp.Tests.HandlerExecution;

/// <summary>What the objects of one <see cref="BlockingProbeService"/> share with the test.</summary>
public sealed class ProbeState : IDisposable
{
    /// <summary>Opened by the test to let <see cref="IBlockingProbe.BlockAsync"/> return.</summary>
    public ManualResetEventSlim Gate { get; } = new();

    /// <summary>Completes once a <see cref="IBlockingProbe.BlockAsync"/> handler is blocking its thread.</summary>
    public TaskCompletionSource Blocking { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);

    /// <summary>The numbers <see cref="IBlockingProbe.RecordAsync"/> was started with, in the order it started.</summary>
    public ConcurrentQueue<int> Recorded { get; } = new();

    /// <summary>The numbers <see cref="IBlockingProbe.RecordAsync"/> was started with whose token was already cancelled.</summary>
    public ConcurrentQueue<int> StartedCancelled { get; } = new();

    public void Dispose()
    {
        // Whatever a test asserted, no handler stays blocked behind it.
        Gate.Set();
    }
}

/// <summary>The server side of <see cref="IBlockingProbe"/>.</summary>
public sealed class BlockingProbeService(ProbeState state) : IBlockingProbe
{
    // Bounds the synchronous wait only so that a broken run cannot hold a thread for ever; tests open
    // the gate long before.
    private static readonly TimeSpan GateLimit = TimeSpan.FromMinutes(2);

    public Task<int> BlockAsync()
    {
        state.Blocking.TrySetResult();
        return Task.FromResult(state.Gate.Wait(GateLimit) ? 1 : 0);
    }

    public IBlockingProbe Sibling() => new BlockingProbeService(state);

    public Task<string> EchoAsync(string text) => Task.FromResult(text);

    // Blocks on purpose (RPC0019): the tests prove where such a handler deadlocks and where it does not.
#pragma warning disable RPC0019
    public Task<string> AskAndWaitAsync(IAnswerer answerer, string question) =>
        Task.FromResult(answerer.AnswerAsync(question).GetAwaiter().GetResult());
#pragma warning restore RPC0019

    public async Task<string> AskAsync(IAnswerer answerer, string question) => await answerer.AnswerAsync(question);

    public Task RecordAsync(int number, CancellationToken cancellationToken)
    {
        if (cancellationToken.IsCancellationRequested)
        {
            state.StartedCancelled.Enqueue(number);
        }

        state.Recorded.Enqueue(number);
        return Task.CompletedTask;
    }
}

/// <summary>A client's callback that answers at once.</summary>
public sealed class PromptAnswerer : IAnswerer
{
    public Task<string> AnswerAsync(string question) => Task.FromResult("answer to " + question);
}

/// <summary>A client's callback that, to answer, calls the server and waits for it synchronously.</summary>
public sealed class EchoingAnswerer(IBlockingProbe server) : IAnswerer
{
    // Blocks on purpose (RPC0019), like AskAndWaitAsync.
#pragma warning disable RPC0019
    public Task<string> AnswerAsync(string question) =>
        Task.FromResult("echoed " + server.EchoAsync(question).GetAwaiter().GetResult());
#pragma warning restore RPC0019
}
