using System.Collections.Concurrent;
using System.Runtime.CompilerServices;

namespace RpcGen.Soak;

/// <summary>The server side of the soak: it counts each call id it runs and each hang still waiting.</summary>
public sealed class SoakService : ISoakService
{
    // A barrier that never fills (a lost call) must not hold its callers for ever.
    private static readonly TimeSpan BarrierTimeout = TimeSpan.FromMinutes(2);

    private readonly ConcurrentDictionary<long, int> _runs = new();
    private readonly ConcurrentQueue<long> _runTwice = new();
    private readonly ConcurrentDictionary<string, PhaseBarrier> _barriers = new();
    private int _hanging;

    /// <summary>Hang calls started and not yet ended: zero once every cancellation and deadline reached the server.</summary>
    public int Hanging => Volatile.Read(ref _hanging);

    /// <summary>Call ids the server ran more than once (while it still remembered them, see <see cref="Forget"/>).</summary>
    public IReadOnlyCollection<long> RunTwice => _runTwice;

    /// <summary>
    /// Forgets a call whose answer the client has, so a long soak's table stays the size of its
    /// in-flight set. A copy of that call arriving after this would go unnoticed; a transport that
    /// replays calls does so while the original is unanswered, which the table still sees.
    /// </summary>
    public void Forget(long callId) => _runs.TryRemove(callId, out _);

    /// <summary>Told the id of each echo as its handler runs (the paced phase's profile); null otherwise.</summary>
    public Action<long>? EchoObserver { get; set; }

    public Task<SoakReply> EchoAsync(long callId, string payload)
    {
        EchoObserver?.Invoke(callId);
        Ran(callId);
        return Task.FromResult(new SoakReply(callId, payload));
    }

    public async Task<long> BarrierAsync(long callId, string phase, int parties)
    {
        Ran(callId);
        var barrier = _barriers.GetOrAdd(phase, _ => new PhaseBarrier());
        if (Interlocked.Increment(ref barrier.Arrived) == parties)
        {
            barrier.Full.TrySetResult();
            _barriers.TryRemove(phase, out _);
        }

        await barrier.Full.Task.WaitAsync(BarrierTimeout);
        return callId;
    }

    public async Task HangAsync(long callId, CancellationToken cancellationToken)
    {
        Ran(callId);
        Interlocked.Increment(ref _hanging);
        try
        {
            await Task.Delay(Timeout.Infinite, cancellationToken);
        }
        finally
        {
            // The client never gets an answer to forget, so the server forgets the call itself.
            Forget(callId);
            Interlocked.Decrement(ref _hanging);
        }
    }

    public async IAsyncEnumerable<SoakItem> RangeAsync(long callId, int count, [EnumeratorCancellation] CancellationToken cancellationToken = default)
    {
        Ran(callId);
        for (var i = 0; i < count; i++)
        {
            await Task.Yield();
            yield return new SoakItem(callId, i);
        }
    }

    public async Task<long> CountInOrderAsync(long callId, IAsyncEnumerable<SoakItem> items, CancellationToken cancellationToken = default)
    {
        Ran(callId);
        long expected = 0;
        await foreach (var item in items.WithCancellation(cancellationToken))
        {
            if (item.CallId != callId || item.Index != expected)
            {
                return -1;
            }

            expected++;
        }

        return expected;
    }

    public async IAsyncEnumerable<SoakItem> EchoItemsAsync(long callId, IAsyncEnumerable<SoakItem> items, [EnumeratorCancellation] CancellationToken cancellationToken = default)
    {
        Ran(callId);
        await foreach (var item in items.WithCancellation(cancellationToken))
        {
            yield return item;
        }
    }

    public async Task<int> PushAsync(long callId, int count, ISoakListener listener)
    {
        Ran(callId);
        try
        {
            for (var i = 0; i < count; i++)
            {
                await listener.OnItemAsync(new SoakItem(callId, i));
            }
        }
        finally
        {
            await RpcReference.ReleaseAsync(listener);
        }

        return count;
    }

    private void Ran(long callId)
    {
        if (_runs.AddOrUpdate(callId, 1, static (_, runs) => runs + 1) > 1)
        {
            _runTwice.Enqueue(callId);
        }
    }

    private sealed class PhaseBarrier
    {
        public readonly TaskCompletionSource Full = new(TaskCreationOptions.RunContinuationsAsynchronously);
        public int Arrived;
    }
}
