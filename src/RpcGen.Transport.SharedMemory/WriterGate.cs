namespace RpcGen.Transport.SharedMemory;

/// <summary>
/// The <see cref="WindowWriter"/>'s one-holder gate. The protocol thread takes and releases it
/// several times per frame (<c>GetSpan</c> to <c>Advance</c>, around each flush), always without
/// waiting, so that path is one compare-and-swap and one exchange, with no lock: a
/// <see cref="SemaphoreSlim"/> took its lock on each take and each release, four lock acquisitions
/// per frame sent, on the latency path. Only the link's closing path waits for the gate (bounded, asynchronously),
/// on a semaphore that a release signals when, and only when, a waiter announced itself.
/// </summary>
internal sealed class WriterGate
{
    // 1 while held.
    private int _held;

    // Closers waiting in WaitAsync; a release signals _freed only while this is positive.
    private int _waiters;
    private readonly SemaphoreSlim _freed = new(0);

    // 1 once the link took the gate for good (ParkAsync): waiting closers give up at once instead
    // of waiting out their timeout for a gate nobody will release. Set with a full fence, as
    // _waiters is counted with one: a closer that starts waiting as the gate is parked either sees
    // it parked or is counted, and then released.
    private int _parked;

    /// <summary>Takes the gate if it is free; never waits.</summary>
    public bool TryEnter() => Interlocked.CompareExchange(ref _held, 1, 0) == 0;

    /// <summary>Releases the gate (the caller holds it) and wakes a waiter, if any.</summary>
    public void Exit()
    {
        // A full fence: a waiter that announced itself before our release is seen here, and one
        // that announces itself after sees the gate free on its next try.
        Interlocked.Exchange(ref _held, 0);
        if (Volatile.Read(ref _waiters) != 0)
        {
            _freed.Release();
        }
    }

    /// <summary>Takes the gate, waiting at most <paramref name="timeout"/> (<see cref="Timeout.InfiniteTimeSpan"/>: for good, until parked) without blocking a thread; false when it stayed held.</summary>
    public async Task<bool> WaitAsync(TimeSpan timeout)
    {
        if (TryEnter())
        {
            return true;
        }

        var infinite = timeout == Timeout.InfiniteTimeSpan;
        var deadline = infinite ? long.MaxValue : Environment.TickCount64 + (long)timeout.TotalMilliseconds;
        Interlocked.Increment(ref _waiters);
        try
        {
            while (!TryEnter())
            {
                if (Volatile.Read(ref _parked) != 0)
                {
                    return false;
                }

                var left = infinite ? Timeout.InfiniteTimeSpan : TimeSpan.FromMilliseconds(deadline - Environment.TickCount64);
                if ((!infinite && left <= TimeSpan.Zero) || !await _freed.WaitAsync(left).ConfigureAwait(false))
                {
                    return TryEnter();
                }
            }

            return true;
        }
        finally
        {
            Interlocked.Decrement(ref _waiters);
        }
    }

    /// <summary>
    /// Takes the gate for good (the link stopped and is about to unmap the windows), waiting at most
    /// <paramref name="timeout"/>; false when it stayed held. Every later or waiting <see cref="WaitAsync"/>
    /// then returns false at once.
    /// </summary>
    public async Task<bool> ParkAsync(TimeSpan timeout)
    {
        if (!await WaitAsync(timeout).ConfigureAwait(false))
        {
            return false;
        }

        Interlocked.Exchange(ref _parked, 1);
        if (Volatile.Read(ref _waiters) is var waiting and > 0)
        {
            _freed.Release(waiting);
        }

        return true;
    }
}
