namespace RpcGen.Transport.Message.Tests;

/// <summary>A value the caller serves back to the server, by reference.</summary>
[RpcService(0x5E57_0000_0000_0010)]
public interface INumberSource
{
    [RpcMethod(1)]
    Task<int> NextAsync();
}

/// <summary>Handlers that block their thread, the way real code does by mistake.</summary>
[RpcService(0x5E57_0000_0000_0011)]
public interface IBlockingService
{
    /// <summary>Blocks its thread until the test opens the gate.</summary>
    [RpcMethod(1)]
    Task<int> BlockAsync();

    [RpcMethod(2)]
    Task<string> EchoAsync(string text);

    /// <summary>Waits synchronously (<c>GetAwaiter().GetResult()</c>) for a call back into <paramref name="source"/>.</summary>
    [RpcMethod(3)]
    Task<int> AskSynchronouslyAsync(INumberSource source);

    /// <summary>Calls <paramref name="source"/> and returns what it said.</summary>
    [RpcMethod(4)]
    Task<int> AskAsync(INumberSource source);

    /// <summary>Waits until the caller cancels; its cancellation callback blocks until the test opens <see cref="BlockingService.CancelGate"/>.</summary>
    [RpcMethod(5)]
    Task WaitForCancellationAsync(CancellationToken cancellationToken);
}

/// <summary>
/// Implements <see cref="IBlockingService"/> with synchronous waits bounded by <paramref name="blockLimit"/>,
/// so a connection that cannot make progress ends the test with a failed call instead of a hang.
/// </summary>
public sealed class BlockingService(TimeSpan blockLimit) : IBlockingService
{
    private readonly ThreadGate _gate = new(blockLimit);

    public ManualResetEventSlim Entered => _gate.Entered;

    public ManualResetEventSlim Gate => _gate.Open;

    public Task<int> BlockAsync()
    {
        _gate.Pass();
        return Task.FromResult(1);
    }

    public Task<string> EchoAsync(string text) => Task.FromResult(text);

    public Task<int> AskSynchronouslyAsync(INumberSource source)
    {
        var answer = source.NextAsync();
        if (!answer.Wait(blockLimit))
        {
            throw new TimeoutException("The callback never answered.");
        }

        return Task.FromResult(answer.Result);
    }

    public Task<int> AskAsync(INumberSource source) => source.NextAsync();

    public ManualResetEventSlim CancelGate { get; } = new();

    public async Task WaitForCancellationAsync(CancellationToken cancellationToken)
    {
        using var registration = cancellationToken.Register(() => CancelGate.Wait(blockLimit));
        Entered.Set();
        await Task.Delay(Timeout.Infinite, cancellationToken);
    }
}

/// <summary>A callback that blocks its thread until the test opens the gate.</summary>
public sealed class BlockingNumberSource(TimeSpan blockLimit) : INumberSource
{
    private readonly ThreadGate _gate = new(blockLimit);

    public ManualResetEventSlim Entered => _gate.Entered;

    public ManualResetEventSlim Gate => _gate.Open;

    public Task<int> NextAsync()
    {
        _gate.Pass();
        return Task.FromResult(42);
    }
}

/// <summary>Blocks the thread that passes it until the test opens it, or fails after <paramref name="limit"/>.</summary>
public sealed class ThreadGate(TimeSpan limit)
{
    /// <summary>Set when a thread reaches the gate.</summary>
    public ManualResetEventSlim Entered { get; } = new();

    public ManualResetEventSlim Open { get; } = new();

    public void Pass()
    {
        Entered.Set();
        if (!Open.Wait(limit))
        {
            throw new TimeoutException("The gate stayed shut.");
        }
    }
}

/// <summary>A callback that answers at once.</summary>
public sealed class FixedNumberSource(int value) : INumberSource
{
    public Task<int> NextAsync() => Task.FromResult(value);
}
