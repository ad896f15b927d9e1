using System.Runtime.ExceptionServices;
using System.Threading.Tasks.Sources;

namespace RpcGen.Transport.Message;

/// <summary>
/// The hand-off between one producer (the connection's reader, decoding stream items) and one
/// consumer (whoever enumerates the stream): the producer appends without a lock or a fence, and
/// wakes a waiting consumer only when it publishes (<see cref="Publish"/>, once per read), so a
/// burst of items costs one wake, not one per item.
/// </summary>
/// <remarks>
/// Why not a <c>Channel</c>, nor a queue under a lock: an unbounded channel takes its lock and checks
/// for a waiting reader on every write, and its reader takes the same lock on every read, so a burst
/// of small items made the reader and the consumer contend once per item (32% of the contended
/// samples of the small-item stream, results/profile.md) and woke the consumer (a thread-pool hop)
/// for nearly every item; a plain lock around a queue still spun in <c>Monitor.Enter</c> for 14% of
/// the process's CPU, because a consumer that keeps up comes back for every item.
/// <para>
/// Structure: a linked list of fixed-size segments. The producer alone writes <c>_tail</c> and its
/// slots and publishes each slot by a release write of <see cref="Segment.Written"/>; the consumer
/// alone reads <c>_head</c>, and passes a drained segment back through <c>_spare</c> for reuse. Items are
/// taken in the order they were added, and every item added before <see cref="Complete"/> is handed
/// out before the completion is reported.
/// </para>
/// <para>
/// Waking (no lost wake-up): the consumer arms its wait with a full fence, then looks for items and
/// the end once more; <see cref="Publish"/> and <see cref="Complete"/> fence, then disarm the wait.
/// One of the two sees the other; whoever disarms the wait (an exchange) completes it, exactly once. A waiting consumer is resumed on the thread pool, never on the
/// thread that wakes it (the reader must not run user code). Items added but not yet published are
/// still taken by a consumer that looks (<see cref="TryTake"/>), just not woken for.
/// </para>
/// </remarks>
internal sealed class StreamItemQueue<T> : IValueTaskSource<bool>
{
    // Slots per segment: large enough that moving to the next segment is rare, small enough to stay
    // out of the large object heap for any T.
    private const int SegmentSize = 256;

    // Producer only.
    private Segment _tail;
    private int _tailIndex;

    // Consumer only.
    private Segment _head;
    private int _headIndex;

    // Drained segments the consumer hands back (a chain through Next it pushes onto one by one), and
    // the chain the producer took over all at once and reuses from. Pushing by one side and taking
    // the whole chain by the other cannot suffer ABA. The segments in both are at most the most ever
    // in use at once, which the stream's window bounds.
    private Segment? _spare;
    private Segment? _producerSpares;

    // Set once by Complete; _completion (written before it) is the error, if any.
    private volatile bool _completed;
    private Exception? _completion;
    private int _completing;

    // The consumer's wait, reused for every wait (no allocation per batch): armed (1) while the consumer
    // waits; whoever disarms it (a publish, the end, the consumer's cancellation) completes it.
    private ManualResetValueTaskSourceCore<bool> _wait = new() { RunContinuationsAsynchronously = true };
    private int _armed;
    private CancellationTokenRegistration _cancellation;

    public StreamItemQueue()
    {
        _tail = _head = new Segment();
    }

    private bool HasItems => _headIndex < Volatile.Read(ref _head.Written) || (_headIndex == SegmentSize && Volatile.Read(ref _head.Next) is not null);

    /// <summary>Whether the consumer would find an item, or the end, now (consumer only).</summary>
    public bool IsReady => HasItems || _completed;

    /// <summary>Adds an item (producer only); the consumer is not woken for it until <see cref="Publish"/>.</summary>
    public void Add(T item)
    {
        if (_tailIndex == SegmentSize)
        {
            var next = TakeSpare();
            Volatile.Write(ref _tail.Next, next);
            _tail = next;
            _tailIndex = 0;
        }

        _tail.Items[_tailIndex] = item;
        _tailIndex++;
        Volatile.Write(ref _tail.Written, _tailIndex);
    }

    private Segment TakeSpare()
    {
        var spare = _producerSpares ?? Interlocked.Exchange(ref _spare, null);
        if (spare is null)
        {
            return new Segment();
        }

        _producerSpares = spare.Next;
        spare.Next = null;
        return spare;
    }

    /// <summary>Wakes the consumer if it waits for items (producer only; after a batch of <see cref="Add"/>).</summary>
    public void Publish()
    {
        // Full fence: the consumer's check for items after publishing its wait must not miss these
        // items while this misses its wait.
        Interlocked.MemoryBarrier();
        if (Volatile.Read(ref _armed) == 1)
        {
            Wake();
        }
    }

    /// <summary>Ends the queue: the consumer gets what was added so far, then the end (or <paramref name="error"/>). Later calls do nothing; any thread.</summary>
    public void Complete(Exception? error)
    {
        if (Interlocked.Exchange(ref _completing, 1) != 0)
        {
            return;
        }

        _completion = error;
        _completed = true;
        Wake();
    }

    /// <summary>Takes the next item, if one was added (consumer only).</summary>
    public bool TryTake(out T item)
    {
        while (true)
        {
            var head = _head;
            if (_headIndex < Volatile.Read(ref head.Written))
            {
                item = head.Items[_headIndex];
                head.Items[_headIndex] = default!;
                _headIndex++;
                return true;
            }

            if (_headIndex < SegmentSize || Volatile.Read(ref head.Next) is not { } next)
            {
                item = default!;
                return false;
            }

            // The producer has moved on to the next segment and never touches this one again.
            _head = next;
            _headIndex = 0;
            head.Written = 0;
            Segment? spares;
            do
            {
                spares = Volatile.Read(ref _spare);
                head.Next = spares;
            }
            while (Interlocked.CompareExchange(ref _spare, head, spares) != spares);
        }
    }

    /// <summary>
    /// Waits until there may be something to take: true when the consumer should look again (an item,
    /// or the end, came), false when the queue ended with nothing left; throws the completion's error
    /// once everything before it was taken, and <see cref="OperationCanceledException"/> when
    /// <paramref name="cancellationToken"/> fires first. Consumer only, one wait at a time.
    /// </summary>
    public ValueTask<bool> WaitAsync(CancellationToken cancellationToken)
    {
        while (true)
        {
            if (HasItems)
            {
                return new ValueTask<bool>(true);
            }

            if (_completed)
            {
                // Items added before the end are visible once the end is: hand them out first.
                if (HasItems)
                {
                    return new ValueTask<bool>(true);
                }

                if (_completion is not null)
                {
                    ExceptionDispatchInfo.Throw(_completion);
                }

                return new ValueTask<bool>(false);
            }

            cancellationToken.ThrowIfCancellationRequested();
            _wait.Reset();
            Interlocked.Exchange(ref _armed, 1);
            if (HasItems || _completed)
            {
                // Came meanwhile. Disarmed here: look again. Disarmed by the producer: the wait is
                // (being) completed, so return it; it says "look again" too.
                if (Interlocked.Exchange(ref _armed, 0) == 1)
                {
                    continue;
                }

                return new ValueTask<bool>(this, _wait.Version);
            }

            if (cancellationToken.CanBeCanceled)
            {
                _cancellation = cancellationToken.UnsafeRegister(static (state, token) => ((StreamItemQueue<T>)state!).Cancel(token), this);
            }

            return new ValueTask<bool>(this, _wait.Version);
        }
    }

    bool IValueTaskSource<bool>.GetResult(short token)
    {
        // Waits for a cancellation callback that is running; none can run after this.
        _cancellation.Dispose();
        _cancellation = default;
        return _wait.GetResult(token);
    }

    ValueTaskSourceStatus IValueTaskSource<bool>.GetStatus(short token) => _wait.GetStatus(token);

    void IValueTaskSource<bool>.OnCompleted(Action<object?> continuation, object? state, short token, ValueTaskSourceOnCompletedFlags flags) =>
        _wait.OnCompleted(continuation, state, token, flags);

    private void Wake()
    {
        if (Interlocked.Exchange(ref _armed, 0) == 1)
        {
            _wait.SetResult(true);
        }
    }

    private void Cancel(CancellationToken token)
    {
        if (Interlocked.Exchange(ref _armed, 0) == 1)
        {
            _wait.SetException(new OperationCanceledException(token));
        }
    }

    private sealed class Segment
    {
        public readonly T[] Items = new T[SegmentSize];

        // Slots the producer has filled (and released to the consumer).
        public int Written;

        // The segment after this one, set by the producer when this one is full.
        public Segment? Next;
    }
}
