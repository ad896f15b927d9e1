using System.Runtime.ExceptionServices;

namespace RpcGen.Transport.Message;

/// <summary>
/// The hand-off between one producer (the connection's reader, decoding stream items) and one
/// consumer (whoever enumerates the stream): the producer appends item by item, the consumer takes
/// everything that arrived in one swap and is woken at most once per such batch (the producer decides
/// when to wake it: <see cref="TryAdd"/> hands it the consumer's wait).
/// </summary>
/// <remarks>
/// Why not a <c>Channel</c>: an unbounded channel takes its lock and checks for a waiting reader on
/// every write, and its reader takes the same lock on every read, so a burst of small items made the
/// reader and the consumer contend once per item (32% of the contended samples of the small-item
/// stream, results/profile.md), and woke the consumer (a thread-pool hop) for nearly every item. Here the
/// consumer touches the shared state once per batch and the reader wakes it once per read.
/// <para>
/// Invariants: <c>_arrived</c>, <c>_completed</c>, <c>_completion</c> and <c>_waiter</c> are guarded by
/// <c>_gate</c>; <c>_taking</c> belongs to the consumer alone. Items are taken in the order they were
/// added, and every item added before <see cref="Complete"/> is handed out before the completion is
/// reported. A consumer that waits is resumed on the thread pool, never on the thread that wakes it
/// (the producer is the connection's reader and must not run user code).
/// </para>
/// Lock order: <c>_gate</c> is a leaf; nothing is completed or run while it is held.
/// </remarks>
internal sealed class StreamItemQueue<T>
{
    private readonly object _gate = new();

    // Guarded by _gate: what the producer added since the consumer last swapped.
    private Queue<T> _arrived = new();

    // Consumer only: the batch being handed out.
    private Queue<T> _taking = new();

    // Guarded by _gate: set once by Complete; _completion is the error, if any.
    private bool _completed;
    private Exception? _completion;

    // Guarded by _gate: the consumer's wait, set while it found nothing; the producer takes it to wake it.
    private TaskCompletionSource? _waiter;

    /// <summary>
    /// Adds an item; false (and the item is not kept) once the queue was completed. When the consumer
    /// was waiting, <paramref name="wake"/> is its wait, taken out for the caller to complete (at once,
    /// or after the rest of the batch it is adding, so the consumer wakes once for all of them).
    /// </summary>
    public bool TryAdd(T item, out TaskCompletionSource? wake)
    {
        lock (_gate)
        {
            if (_completed)
            {
                wake = null;
                return false;
            }

            _arrived.Enqueue(item);
            wake = _waiter;
            _waiter = null;
        }

        return true;
    }

    /// <summary>Ends the queue: the consumer gets what was added so far, then the end (or <paramref name="error"/>). Later calls do nothing.</summary>
    public void Complete(Exception? error)
    {
        TaskCompletionSource? wake;
        lock (_gate)
        {
            if (_completed)
            {
                return;
            }

            _completed = true;
            _completion = error;
            wake = _waiter;
            _waiter = null;
        }

        wake?.TrySetResult();
    }

    /// <summary>
    /// Takes the next item, from the batch in hand without touching shared state; when it is empty,
    /// swaps in what arrived meanwhile. False when nothing is there now (then <see cref="WaitAsync"/>).
    /// </summary>
    public bool TryTake(out T item)
    {
        if (_taking.TryDequeue(out item!))
        {
            return true;
        }

        lock (_gate)
        {
            if (_arrived.Count == 0)
            {
                return false;
            }

            (_arrived, _taking) = (_taking, _arrived);
        }

        return _taking.TryDequeue(out item!);
    }

    /// <summary>
    /// Waits until an item can be taken (true) or the queue ended with nothing left (false); throws the
    /// completion's error once everything before it was taken, and <see cref="OperationCanceledException"/>
    /// when <paramref name="cancellationToken"/> fires first.
    /// </summary>
    public async ValueTask<bool> WaitAsync(CancellationToken cancellationToken)
    {
        TaskCompletionSource waiter;
        lock (_gate)
        {
            if (_arrived.Count > 0 || _taking.Count > 0)
            {
                return true;
            }

            if (_completed)
            {
                if (_completion is not null)
                {
                    ExceptionDispatchInfo.Throw(_completion);
                }

                return false;
            }

            waiter = _waiter = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        }

        if (cancellationToken.CanBeCanceled)
        {
            await waiter.Task.WaitAsync(cancellationToken).ConfigureAwait(false);
        }
        else
        {
            await waiter.Task.ConfigureAwait(false);
        }

        // Woken by an item or by the end; the caller loops back to take it or to see the end.
        return await WaitAsync(cancellationToken).ConfigureAwait(false);
    }
}
