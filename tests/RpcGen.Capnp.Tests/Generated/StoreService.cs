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
        _held = visitor;
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
