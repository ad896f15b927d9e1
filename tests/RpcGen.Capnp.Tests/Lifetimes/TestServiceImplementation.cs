namespace RpcGen.Capnp.Tests.Lifetimes;

/// <summary>
/// Our server of <see cref="ITestService"/>, written as a user would against the generated binding:
/// callbacks are used during their call only, and <see cref="HoldAsync"/> keeps its counter with
/// <see cref="CapnpCapability.Retain{TService}"/> (or, with <paramref name="retainHeld"/> false,
/// stores it without, which the lifetime rules make fail loudly on the next use).
/// </summary>
public sealed class TestServiceImplementation(bool retainHeld = true) : ITestService
{
    private ICounter? _held;

    public Task<string> EchoAsync(string text) => Task.FromResult(text);

    public Task<long> AddAsync(long a, long b) => Task.FromResult(a + b);

    public ICounter NewCounter(ulong start) => new LocalCounter(start);

    public Task<string> CallBackAsync(ICallback callback, string message) => callback.NotifyAsync(message);

    public Task FailAsync(string message, ushort kind) => throw new RpcException(RpcStatusCode.Failed, message);

    public async Task BlockAsync(CancellationToken cancellationToken)
    {
        var cancelled = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        await using (cancellationToken.Register(() => cancelled.TrySetResult()))
        {
            await cancelled.Task;
        }

        cancellationToken.ThrowIfCancellationRequested();
    }

    public Task<ICounter> EchoCapAsync(ICounter cap) => Task.FromResult(cap);

    public Task HoldAsync(ICounter cap)
    {
        _held = retainHeld ? CapnpCapability.Retain(cap) : cap;
        return Task.CompletedTask;
    }

    public async Task DropHeldAsync()
    {
        var held = Interlocked.Exchange(ref _held, null) ?? throw new RpcException(RpcStatusCode.Failed, "Nothing is held.");
        using (held as IDisposable)
        {
            await held.IncrementAsync();
        }
    }
}

/// <summary>A counter served from this process; counts its disposals (the last reference to it was released).</summary>
public sealed class LocalCounter(ulong start) : ICounter, IDisposable
{
    private long _value = (long)start;
    private int _disposals;

    public int Disposals => Volatile.Read(ref _disposals);

    public Task<ulong> IncrementAsync() => Task.FromResult((ulong)Interlocked.Increment(ref _value));

    public void Dispose() => Interlocked.Increment(ref _disposals);
}

/// <summary>A client-side callback that answers as the C++ test client's does and signals its disposal.</summary>
public sealed class ReplyingCallback : ICallback, IDisposable
{
    private readonly TaskCompletionSource _disposed = new(TaskCreationOptions.RunContinuationsAsynchronously);

    /// <summary>Completes when the last reference to this callback was released.</summary>
    public Task Disposed => _disposed.Task;

    public Task<string> NotifyAsync(string message) => Task.FromResult("cpp got " + message);

    public void Dispose() => _disposed.TrySetResult();
}
