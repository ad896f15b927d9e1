using System.Collections.Concurrent;

namespace RpcGen.Transport.Message;

/// <summary>
/// The thread-pool work one read produced (the answered calls whose callers await them, on a
/// client; the inbound calls to run, on a server), handed to the pool as one work item instead of
/// one each: under load one read holds dozens of frames, and every work item queued costs the pool a
/// thread request, and often a worker woken or spinning for it. The work runs on the pool thread
/// that runs the batch, never on the reader.
/// </summary>
/// <remarks>
/// No item holds up the others: before a runner starts an item while items are left, it makes sure
/// another runner (a helper: the same batch queued again) is queued, so if that item blocks (a
/// handler, or a caller's code after its await), the helper takes the rest; a helper does the same.
/// At most one helper is queued and not yet started at a time, so a batch of quick items costs one
/// work item and a helper that finds nothing left. Items are claimed by an interlocked index, so each
/// runs exactly once, and they start in the order the reader added them. Each item runs as a
/// thread-pool item does: with the pool thread's default execution context and no synchronization
/// context, restored after it, so nothing one item set leaks into the next.
/// Lifetime: filled by the reader alone (<see cref="Add"/>), then queued once (<see cref="Queue"/>);
/// from then on it belongs to its runners. <c>_workItems</c> counts the runners queued and running;
/// the one that brings it to zero returns the batch to the pool.
/// </remarks>
internal sealed class ReaderWorkBatch : IThreadPoolWorkItem
{
    private const int MaxPooled = 64;
    private static readonly ConcurrentQueue<ReaderWorkBatch> s_pool = new();

    // Written by the reader before Queue; read-only afterwards until recycled.
    private IThreadPoolWorkItem[] _items = new IThreadPoolWorkItem[16];
    private int _count;

    // How many items were claimed so far (claimed with Interlocked.Increment).
    private int _claimed;

    // 1 while a helper is queued and has not started.
    private int _helperQueued;

    // Runners queued or running; the last one out recycles the batch.
    private int _workItems;

    public static ReaderWorkBatch Rent() => s_pool.TryDequeue(out var batch) ? batch : new ReaderWorkBatch();

    /// <summary>Adds an item; reader only, before <see cref="Queue"/>.</summary>
    public void Add(IThreadPoolWorkItem item)
    {
        if (_count == _items.Length)
        {
            Array.Resize(ref _items, _count * 2);
        }

        _items[_count++] = item;
    }

    /// <summary>Hands the batch to the thread pool; the caller must not touch it afterwards.</summary>
    public void Queue()
    {
        _workItems = 1;
        ThreadPool.UnsafeQueueUserWorkItem(this, preferLocal: false);
    }

    void IThreadPoolWorkItem.Execute()
    {
        // An unsafe work item starts in the pool thread's default context: each item starts from it too.
        var start = ExecutionContext.Capture();
        Volatile.Write(ref _helperQueued, 0);
        int index;
        while ((index = Interlocked.Increment(ref _claimed) - 1) < _count)
        {
            if (index + 1 < _count && Interlocked.CompareExchange(ref _helperQueued, 1, 0) == 0)
            {
                Interlocked.Increment(ref _workItems);
                ThreadPool.UnsafeQueueUserWorkItem(this, preferLocal: false);
            }

            _items[index].Execute();
            if (start is not null)
            {
                ExecutionContext.Restore(start);
            }

            if (SynchronizationContext.Current is not null)
            {
                SynchronizationContext.SetSynchronizationContext(null);
            }
        }

        if (Interlocked.Decrement(ref _workItems) == 0)
        {
            Recycle();
        }
    }

    private void Recycle()
    {
        Array.Clear(_items, 0, _count);
        _count = 0;
        _claimed = 0;
        _helperQueued = 0;
        if (s_pool.Count < MaxPooled)
        {
            s_pool.Enqueue(this);
        }
    }
}
