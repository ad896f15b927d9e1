namespace RpcGen.Transport.Message;

/// <summary>
/// Where one connection is in its life (open, draining after this side's GoAway, closed), the
/// inbound calls a drain waits for, and the GoAway the peer sent: the counters and flags that
/// decide whether a call may still start, and when a graceful stop is done.
/// </summary>
/// <remarks>
/// Invariants:
/// <list type="bullet">
/// <item>The state only moves forward: Open → Draining (<see cref="TryStartDraining"/>) → Closed
/// (<see cref="TryClose"/>), or Open → Closed. Each move happens once.</item>
/// <item>An inbound call is counted (<see cref="TryEnterCall"/>) before the state is read, and the
/// drain moves the state before it reads the count; so either the drain sees the call in flight
/// and waits for it, or the call sees the drain and is refused. <see cref="Drained"/> completes
/// when, after the drain started, the count reaches zero and the peer acknowledged the GoAway, or
/// when the connection closed.</item>
/// <item>Once the peer's GoAway was read (<see cref="PeerDraining"/>), no new outbound call passes
/// its check; the pong acknowledging the peer's GoAway ping is sent only when no call that passed
/// the check before is still queueing its request (<see cref="BeginSending"/>).</item>
/// </list>
/// Lock order: no locks; every field is an interlocked counter or a volatile flag, and the drain's
/// completions run their continuations asynchronously.
/// </remarks>
internal sealed class ConnectionLifecycle
{
    private const int Open = 0;
    private const int Draining = 1;
    private const int Closed = 2;

    // Open → Draining (this side stopped accepting new inbound calls) → Closed.
    private int _state;

    // Inbound calls still running, one-way ones included (for MaxConcurrentCalls and the drain).
    private int _inflight;

    // Set when the peer sent GoAway: new outbound calls fail at once.
    private volatile bool _peerDraining;

    // Calls of this side past their GoAway check whose request is not queued yet (see BeginSending).
    private int _sending;

    private readonly TaskCompletionSource _drained = new(TaskCreationOptions.RunContinuationsAsynchronously);

    // Completed when the peer answered the ping sent after GoAway (so it had read the GoAway: any call
    // it sent before has been read here, and refused or run), or when the connection closed.
    private readonly TaskCompletionSource _goAwaySeen = new(TaskCreationOptions.RunContinuationsAsynchronously);

    /// <summary>Whether new inbound calls are accepted (neither draining nor closed).</summary>
    public bool IsOpen => Volatile.Read(ref _state) == Open;

    /// <summary>Whether the connection closed.</summary>
    public bool IsClosed => Volatile.Read(ref _state) == Closed;

    /// <summary>Inbound calls still running.</summary>
    public int InflightCalls => Volatile.Read(ref _inflight);

    /// <summary>Whether the peer sent GoAway (new outbound calls are refused).</summary>
    public bool PeerDraining => _peerDraining;

    /// <summary>
    /// Completes when, after <see cref="TryStartDraining"/>, the peer has acknowledged the GoAway (or
    /// the connection closed) and no inbound call is running.
    /// </summary>
    public Task Drained => Task.WhenAll(_drained.Task, _goAwaySeen.Task);

    /// <summary>Moves an open connection to draining; false when it was already draining or closed.</summary>
    public bool TryStartDraining()
    {
        if (Interlocked.CompareExchange(ref _state, Draining, Open) != Open)
        {
            return false;
        }

        if (Volatile.Read(ref _inflight) == 0)
        {
            _drained.TrySetResult();
        }

        return true;
    }

    /// <summary>Moves the connection to closed; false when it already was.</summary>
    public bool TryClose() => Interlocked.Exchange(ref _state, Closed) != Closed;

    /// <summary>Releases whoever waits for the drain: the connection closed.</summary>
    public void ReleaseDrainWaiters()
    {
        _drained.TrySetResult();
        _goAwaySeen.TrySetResult();
    }

    /// <summary>
    /// Counts an inbound call about to run; false (and not counted) when the connection no longer
    /// accepts calls. Counted before the state is read: see the invariants.
    /// </summary>
    public bool TryEnterCall()
    {
        Interlocked.Increment(ref _inflight);
        if (Volatile.Read(ref _state) != Open)
        {
            LeaveCall();
            return false;
        }

        return true;
    }

    /// <summary>Uncounts an inbound call; the last one out of a draining connection completes the drain.</summary>
    public void LeaveCall()
    {
        if (Interlocked.Decrement(ref _inflight) == 0 && Volatile.Read(ref _state) != Open)
        {
            _drained.TrySetResult();
        }
    }

    /// <summary>The peer's GoAway was read.</summary>
    public void OnPeerGoAway() => _peerDraining = true;

    /// <summary>The pong to this side's GoAway ping arrived; false (not the acknowledgement) while no GoAway was sent.</summary>
    public bool TryAcknowledgeGoAway()
    {
        if (Volatile.Read(ref _state) == Open)
        {
            return false;
        }

        _goAwaySeen.TrySetResult();
        return true;
    }

    /// <summary>
    /// Marks a call of this side between its GoAway check and the queueing of its request frame
    /// (dispose it after the frame was queued), so that the pong that acknowledges the peer's GoAway
    /// is queued after every call that passed the check.
    /// </summary>
    /// <remarks>
    /// Story: Alice's call passes the check (no GoAway yet), and her thread is preempted before it
    /// queues the request. The reader reads the GoAway and the ping after it. Answered at once, the
    /// pong would reach the server ahead of Alice's request; the server, acknowledged and idle,
    /// would close, and Alice's call would be lost on the wire. So the reader, having set
    /// <c>_peerDraining</c>, answers only when <c>_sending</c> is zero (<see cref="CallsBeingQueued"/>):
    /// a caller that incremented before the flag was set is waited for; one that increments after sees
    /// the flag and is refused.
    /// </remarks>
    public SendingScope BeginSending()
    {
        Interlocked.Increment(ref _sending);
        return new SendingScope(this);
    }

    /// <summary>Whether a call that passed its GoAway check is still queueing its request; read after <see cref="OnPeerGoAway"/>.</summary>
    public bool CallsBeingQueued
    {
        get
        {
            // The flag write (reading the GoAway) must not pass the counter read below.
            Interlocked.MemoryBarrier();
            return Volatile.Read(ref _sending) != 0;
        }
    }

    /// <summary>See <see cref="BeginSending"/>.</summary>
    public readonly struct SendingScope(ConnectionLifecycle lifecycle) : IDisposable
    {
        public void Dispose() => Interlocked.Decrement(ref lifecycle._sending);
    }
}
