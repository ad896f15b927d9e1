using System.Collections.Concurrent;

namespace RpcGen.Hosting.Tests;

public sealed record ScopeReport(int ImplementationId, int DependencyId);

[RpcService(0x5E57_0000_0000_0201)]
public interface IScopeProbe
{
    [RpcMethod(1)]
    Task<ScopeReport> ReportAsync();

    /// <summary>Blocks until the test opens <see cref="Gates.Open"/>, then returns 1.</summary>
    [RpcMethod(2)]
    Task<int> WaitForGateAsync();

    [RpcMethod(3)]
    Task<string> EchoAsync(string text);
}

/// <summary>Records what the container created and disposed, so tests can see scopes begin and end.</summary>
public sealed class Lifetimes
{
    private int _lastId;

    public ConcurrentQueue<int> Disposed { get; } = new();

    public SemaphoreSlim DisposedSignal { get; } = new(0);

    public int NextId() => Interlocked.Increment(ref _lastId);

    public void OnDisposed(int id)
    {
        Disposed.Enqueue(id);
        DisposedSignal.Release();
    }

    public async Task WaitUntilDisposedAsync(int id)
    {
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(30));
        while (!Disposed.Contains(id))
        {
            await DisposedSignal.WaitAsync(timeout.Token);
        }
    }
}

/// <summary>A scoped dependency, like a DbContext.</summary>
public sealed class ScopedDependency(Lifetimes lifetimes) : IDisposable
{
    public int Id { get; } = lifetimes.NextId();

    public void Dispose() => lifetimes.OnDisposed(Id);
}

/// <summary>Signals for the call that waits.</summary>
public sealed class Gates
{
    public TaskCompletionSource Entered { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);

    public TaskCompletionSource Open { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);
}

public sealed class ScopeProbe(ScopedDependency dependency, Lifetimes lifetimes, Gates gates) : IScopeProbe
{
    private readonly int _id = lifetimes.NextId();

    public Task<ScopeReport> ReportAsync() => Task.FromResult(new ScopeReport(_id, dependency.Id));

    public async Task<int> WaitForGateAsync()
    {
        gates.Entered.TrySetResult();
        await gates.Open.Task;
        return 1;
    }

    public Task<string> EchoAsync(string text) => Task.FromResult(text);
}
