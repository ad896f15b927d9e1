namespace RpcGen.Capnp;

/// <summary>
/// Bytes in flight against a limit, as <c>rpc.c++</c>'s fixed-window <c>FlowController</c> counts them:
/// a sender acquires a call's size before sending it and releases it when the call is answered. A
/// call is let through when it fits, or when nothing is in flight (so one call larger than the limit
/// still goes, alone). Waiters are granted in the order they asked.
/// </summary>
/// <remarks>Lock order: <c>_gate</c> is a leaf lock; waiters are completed after it is released.</remarks>
internal sealed class CapnpStreamWindow(long limit)
{
    private readonly object _gate = new();

    // Senders waiting for room, oldest first; each entry leaves the list when granted or cancelled.
    private readonly LinkedList<Waiter> _waiters = new();
    private long _inFlight;

    /// <summary>The limit.</summary>
    public long Limit => limit;

    /// <summary>Bytes acquired and not yet released.</summary>
    public long InFlight => Interlocked.Read(ref _inFlight);

    /// <summary>Acquires <paramref name="bytes"/>: at once when they fit and nobody waits, else when released bytes make room.</summary>
    public Task AcquireAsync(long bytes, CancellationToken cancellationToken)
    {
        Waiter waiter;
        lock (_gate)
        {
            if (_waiters.Count == 0 && Fits(bytes))
            {
                Interlocked.Add(ref _inFlight, bytes);
                return Task.CompletedTask;
            }

            waiter = new Waiter(this, bytes);
            waiter.Node = _waiters.AddLast(waiter);
        }

        if (cancellationToken.CanBeCanceled)
        {
            waiter.Registration = cancellationToken.Register(static state => ((Waiter)state!).Owner.Cancel((Waiter)state!), waiter);
        }

        return waiter.Granted.Task;
    }

    /// <summary>Releases <paramref name="bytes"/> and grants the waiters that now fit.</summary>
    public void Release(long bytes)
    {
        List<Waiter>? granted = null;
        lock (_gate)
        {
            Interlocked.Add(ref _inFlight, -bytes);
            while (_waiters.First is { } first && Fits(first.Value.Bytes))
            {
                _waiters.RemoveFirst();
                first.Value.Node = null;
                Interlocked.Add(ref _inFlight, first.Value.Bytes);
                (granted ??= []).Add(first.Value);
            }
        }

        foreach (var waiter in granted ?? [])
        {
            waiter.Registration.Dispose();
            waiter.Granted.TrySetResult();
        }
    }

    private bool Fits(long bytes) => _inFlight == 0 || _inFlight + bytes <= limit;

    private void Cancel(Waiter waiter)
    {
        lock (_gate)
        {
            if (waiter.Node is null)
            {
                // Already granted: the sender sees the grant and releases what it does not use.
                return;
            }

            _waiters.Remove(waiter.Node);
            waiter.Node = null;
        }

        waiter.Granted.TrySetCanceled();
    }

    private sealed class Waiter(CapnpStreamWindow owner, long bytes)
    {
        public CapnpStreamWindow Owner { get; } = owner;

        public long Bytes { get; } = bytes;

        public TaskCompletionSource Granted { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);

        public LinkedListNode<Waiter>? Node { get; set; }

        public CancellationTokenRegistration Registration { get; set; }
    }
}
