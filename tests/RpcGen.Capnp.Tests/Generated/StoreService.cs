using System.Threading.Channels;

namespace RpcGen.Capnp.Tests.Generated;

/// <summary>The server side of <see cref="IStore"/>, recording what the tests look for.</summary>
public sealed class StoreService(string name = "") : IStore
{
    private readonly TaskCompletionSource<bool> _cancelled = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private IVisitor? _held;

    public Task<Sample> EchoAsync(Sample sample) => Task.FromResult(sample);

    public Task<int> CountAsync(IReadOnlyList<Sample> samples, CancellationToken cancellationToken) => Task.FromResult(samples.Count);

    public IStore Child(string childName) => new StoreService(name.Length == 0 ? childName : name + "/" + childName);

    public Task<IStore> ChildAsync(string childName) => Task.FromResult(Child(childName));

    public Task<string> NameAsync() => Task.FromResult(name);

    public async Task<int> VisitAsync(IVisitor visitor, string[] names)
    {
        foreach (var item in names)
        {
            await visitor.VisitAsync(item);
        }

        return names.Length;
    }

    public Task HoldAsync(IVisitor visitor)
    {
        // A callback lent to this call is released when it returns: keep it for Notify.
        _held = CapnpCapability.Retain(visitor);
        return Task.CompletedTask;
    }

    public void Notify(string text) => _ = _held!.VisitAsync(text);

    public Task FailAsync(string message) => throw new RpcException(RpcStatusCode.Failed, message);

    public async Task WaitAsync(CancellationToken cancellationToken)
    {
        var cancelled = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        await using (cancellationToken.Register(() => cancelled.TrySetResult()))
        {
            await cancelled.Task;
        }

        _cancelled.TrySetResult(true);
        cancellationToken.ThrowIfCancellationRequested();
    }

    public Task<bool> WhenCancelledAsync() => _cancelled.Task;
}

/// <summary>A client-hosted callback that records the names it is given.</summary>
public sealed class RecordingVisitor : IVisitor
{
    public Channel<string> Names { get; } = Channel.CreateUnbounded<string>();

    public Task VisitAsync(string name) => Names.Writer.WriteAsync(name).AsTask();
}

/// <summary>A visitor that holds every visit until <see cref="Release"/>, tells when a number of visits are waiting, and counts its disposals.</summary>
public sealed class GatedVisitor(int expectedVisits) : IVisitor, IDisposable
{
    private readonly TaskCompletionSource _gate = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private readonly TaskCompletionSource _allWaiting = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private int _waiting;
    private int _disposals;

    public Task AllWaiting => _allWaiting.Task;

    public int Disposals => Volatile.Read(ref _disposals);

    public async Task VisitAsync(string name)
    {
        if (Interlocked.Increment(ref _waiting) == expectedVisits)
        {
            _allWaiting.TrySetResult();
        }

        await _gate.Task;
    }

    public void Release() => _gate.TrySetResult();

    public void Dispose() => Interlocked.Increment(ref _disposals);
}
