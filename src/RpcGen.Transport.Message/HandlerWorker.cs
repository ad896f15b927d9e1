namespace RpcGen.Transport.Message;

/// <summary>
/// A connection's own thread for inbound calls, used instead of the thread pool when the link's
/// hand-offs are cheaper than waking a pool thread (<see cref="RpcGen.Links.RpcLink.HandOffSpin"/> is
/// positive: shared memory). User code still never runs on the reader: the reader hands a call over
/// and reads on, as with the thread pool; only the hand-off is cheaper, because after each call the
/// worker spins (bounded, adaptive) for the next one instead of going to sleep, so the next call is
/// picked up by a running thread rather than one the kernel must wake (~70 µs on a 2-core VM). Where
/// the link can be polled (<see cref="RpcGen.Links.RpcLink.BeginPolling"/>) the worker polls while it
/// spins: the request is read and parsed on this thread, which the reader, finding it idle, hands the
/// call back to, so a call costs no thread switch at all.
/// <list type="bullet">
/// <item>One call at a time. While the worker runs a call (a handler that blocks holds it), or once it
/// has stopped, <see cref="TryRun"/> refuses and the reader hands the call to the thread pool as
/// before: a blocking handler holds up only itself.</item>
/// <item>States: <c>Idle</c> (spinning for a call), <c>Parked</c> (sleeping on <see cref="_wake"/>),
/// <c>Busy</c> (a call was handed over or runs), <c>Stopped</c> (terminal). Only the reader moves
/// Idle/Parked to Busy, by compare-and-swap, and only then writes <see cref="_next"/>; only the worker
/// moves Busy to Idle (after the call), Idle to Parked, and (after <see cref="Stop"/>) Idle or Parked
/// to Stopped, so a call the reader claimed the worker for is always run.</item>
/// <item>Every call runs with the thread's execution context reset afterwards, as the thread pool does,
/// so nothing a handler put in an <see cref="AsyncLocal{T}"/> leaks into the next call.</item>
/// </list>
/// </summary>
internal sealed class HandlerWorker
{
    private const int Idle = 0;
    private const int Parked = 1;
    private const int Busy = 2;
    private const int Stopped = 3;

    // How long a parked worker sleeps before it looks at its state again; Stop wakes it at once.
    private static readonly TimeSpan s_parkSlice = TimeSpan.FromSeconds(1);

    private readonly AdaptiveSpin _spin;
    private readonly RpcGen.Links.RpcLink _link;
    private readonly ManualResetEventSlim _wake = new(false, spinCount: 0);
    private int _state = Busy;

    // Set once by Stop; the worker ends at its next look (after the call it runs, if any).
    private volatile bool _stopRequested;

    // The call handed over; written by the reader after it moved the state to Busy, taken (and
    // cleared) by the worker before it runs it.
    private IThreadPoolWorkItem? _next;

    // When the last spin for a call began (worker thread only), to tell how late a call came after it.
    private long _spinStarted;

    // Whether other calls of this connection are in flight (running on the thread pool, or awaiting
    // something): their threads need the core a spin would take.
    private readonly Func<bool> _callsInFlight;

    /// <summary>Starts the worker thread, named after the connection; <paramref name="callsInFlight"/> tells whether the connection has inbound calls in flight.</summary>
    public HandlerWorker(RpcGen.Links.RpcLink link, long connectionId, Func<bool> callsInFlight)
    {
        _link = link;
        _callsInFlight = callsInFlight;
        _spin = new AdaptiveSpin(link.HandOffSpin);
        Thread thread;

        // The worker starts with an empty execution context, whatever the thread creating it holds.
        using (ExecutionContext.SuppressFlow())
        {
            thread = new Thread(Run) { IsBackground = true, Name = $"rpcgen-handlers-{connectionId}" };
        }

        _state = Idle;
        thread.Start();
    }

    /// <summary>Hands <paramref name="call"/> to the worker if it is waiting for one; false when it is busy or stopped (use the thread pool).</summary>
    public bool TryRun(IThreadPoolWorkItem call)
    {
        if (Interlocked.CompareExchange(ref _state, Busy, Idle) == Idle)
        {
            Volatile.Write(ref _next, call);
            return true;
        }

        if (Interlocked.CompareExchange(ref _state, Busy, Parked) == Parked)
        {
            Volatile.Write(ref _next, call);
            _wake.Set();
            return true;
        }

        return false;
    }

    /// <summary>Lets the thread end once the call it runs or was just handed (if any) returns; later calls go to the thread pool.</summary>
    public void Stop()
    {
        _stopRequested = true;
        _wake.Set();
    }

    private void Run()
    {
        // The thread starts with no context: this is the default one, which each call starts from.
        var empty = ExecutionContext.Capture()!;
        while (true)
        {
            if (Volatile.Read(ref _next) is { } call)
            {
                _next = null;
                call.Execute();

                // Execute may have changed the context (a handler that set an AsyncLocal and
                // returned synchronously); the next call starts from the empty one, as on the pool.
                ExecutionContext.Restore(empty);
                Volatile.Write(ref _state, Idle);
                continue;
            }

            var state = Volatile.Read(ref _state);
            if (state == Busy)
            {
                // The reader has claimed this worker and is writing the call.
                Thread.SpinWait(1);
                continue;
            }

            if (_stopRequested)
            {
                // Idle or Parked: unless the reader claims us first, nothing more comes.
                if (Interlocked.CompareExchange(ref _state, Stopped, state) == state)
                {
                    return;
                }

                continue;
            }

            if (state == Idle)
            {
                if (!WaitForCall())
                {
                    Interlocked.CompareExchange(ref _state, Parked, Idle);
                }

                continue;
            }

            // Parked: an idle connection costs no CPU until the reader hands a call over or Stop.
            // Stop sets its flag before it wakes us, and the flag is looked at after each reset.
            _wake.Wait(s_parkSlice);
            _wake.Reset();
            if (Volatile.Read(ref _state) == Busy)
            {
                // Tell the spin how late the call came after it began: it grows or keeps its
                // budget when a longer spin would have caught the call, shrinks it when not.
                if (_spinStarted != long.MinValue)
                {
                    _spin.CameAfter(System.Diagnostics.Stopwatch.GetTimestamp() - _spinStarted);
                }
            }
        }
    }

    /// <summary>Spins (bounded, adaptive) until a call is handed over; false when the spin ran out first.</summary>
    private bool WaitForCall()
    {
        if (_callsInFlight() || ThreadPool.PendingWorkItemCount > 0)
        {
            // Other calls of this connection are in flight (the reader gave them to the thread pool
            // while this worker ran one), or work is queued for the pool (answers' continuations):
            // a spin would take the core their threads need, so park at once. No spin began, so a
            // call that comes while parked says nothing about the spin budget.
            _spinStarted = long.MinValue;
            return false;
        }

        // Polling the link where it can: the next request is then read and parsed on this thread, and
        // the reader hands it straight back to this (idle) worker.
        var polling = _link.BeginPolling();
        var caught = false;
        try
        {
            _spinStarted = System.Diagnostics.Stopwatch.GetTimestamp();
            var deadline = _spin.Deadline();
            var busyUntil = 0L;
            while (Volatile.Read(ref _state) == Idle)
            {
                if (polling && (_link.TryPollLane() || _link.TryPollInput()))
                {
                    continue;
                }

                if (!_spin.SpinOnce(ref busyUntil, deadline))
                {
                    return false;
                }
            }

            _spin.Caught();
            caught = true;
            return true;
        }
        finally
        {
            if (polling)
            {
                _link.EndPolling(framesExpected: !caught);
            }
        }
    }
}
