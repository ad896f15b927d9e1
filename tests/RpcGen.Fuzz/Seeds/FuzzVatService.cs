using System.Runtime.CompilerServices;
using RpcGen.Capnp;

namespace RpcGen.Fuzz.Seeds;

/// <summary>
/// The bootstrap of the <c>capnp-rpc</c> harness and of its seed capture. Every call completes on the
/// calling thread unless it waits on the peer (a visitor's answer, a cancellation), so an inline
/// connection handles one input the same way each time.
/// </summary>
internal sealed class FuzzVatService(string name) : IFuzzVat
{
    // The visitors HoldAsync keeps: imports that outlive their call, released when this object goes.
    private readonly List<IFuzzVisitor> _held = [];

    public Task<IFuzzVat> ChildAsync(string childName) => Task.FromResult<IFuzzVat>(new FuzzVatService(childName));

    public Task<string> NameAsync() => Task.FromResult(name);

    public async Task<int> VisitAsync(IFuzzVisitor visitor, int count)
    {
        // The count is the peer's: a few calls show the shape, more would only let it choose our work.
        var calls = Math.Clamp(count, 0, 4);
        for (var i = 0; i < calls; i++)
        {
            await visitor.VisitAsync(i).ConfigureAwait(false);
        }

        return calls;
    }

    public Task HoldAsync(IFuzzVisitor visitor)
    {
        lock (_held)
        {
            _held.Add(CapnpCapability.Retain(visitor));
        }

        return Task.CompletedTask;
    }

    public async Task WaitAsync(CancellationToken cancellationToken) =>
        await Task.Delay(Timeout.Infinite, cancellationToken).ConfigureAwait(false);
}

/// <summary>The visitor the seed capture's client passes: answers at once, or when <see cref="Release"/> is called.</summary>
internal sealed class FuzzVisitor(bool holdCalls) : IFuzzVisitor
{
    private readonly TaskCompletionSource _released = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private readonly TaskCompletionSource _called = new(TaskCreationOptions.RunContinuationsAsynchronously);

    /// <summary>Completes when the first call arrived.</summary>
    public Task Called => _called.Task;

    /// <summary>Lets held calls return.</summary>
    public void Release() => _released.TrySetResult();

    public async Task VisitAsync(int index)
    {
        _called.TrySetResult();
        if (holdCalls)
        {
            await _released.Task.ConfigureAwait(false);
        }
    }
}

/// <summary>The server of the <c>message-streams</c> harness and its seed capture.</summary>
internal sealed class FuzzStreamsService : IFuzzStreams
{
    public async IAsyncEnumerable<int> CountAsync(int count, [EnumeratorCancellation] CancellationToken cancellationToken = default)
    {
        // The peer chooses the count; the harness bounds what one input can make the server send.
        for (var i = 0; i < Math.Clamp(count, 0, 64); i++)
        {
            cancellationToken.ThrowIfCancellationRequested();
            yield return i;
        }

        await Task.CompletedTask.ConfigureAwait(false);
    }

    public async Task<long> SumAsync(IAsyncEnumerable<int> values, CancellationToken cancellationToken = default)
    {
        long sum = 0;
        await foreach (var value in values.WithCancellation(cancellationToken).ConfigureAwait(false))
        {
            sum += value;
        }

        return sum;
    }

    public async IAsyncEnumerable<int> DoubleAsync(IAsyncEnumerable<int> values, [EnumeratorCancellation] CancellationToken cancellationToken = default)
    {
        await foreach (var value in values.WithCancellation(cancellationToken).ConfigureAwait(false))
        {
            yield return value * 2;
        }
    }
}
