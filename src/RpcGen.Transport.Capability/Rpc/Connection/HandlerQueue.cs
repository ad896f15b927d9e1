using Microsoft.Extensions.Logging;

namespace RpcGen.Capnp;

/// <summary>
/// Starts, on the thread pool, the calls a connection delivers to objects served in this process
/// (its bootstrap, and every capability it passed to the peer, such as a callback), so user code
/// never runs on the connection's reader: a handler that blocks holds up only its own object.
/// </summary>
/// <remarks>
/// <para>
/// Ordering (E-order). Cap'n Proto asks that calls made on one capability are delivered in the order
/// they were made, and delivering a call here means starting its method: running it until its first
/// incomplete <c>await</c>. Inline on the reader, every call started in the order it arrived. Here
/// each target has a queue per connection, drained by one thread-pool work item at a time: a call
/// starts once the call before it to the same object has reached its first <c>await</c>, and never
/// waits for it to finish. Calls to different objects, or to one object from different connections,
/// start independently; so a method that blocks before its first <c>await</c> holds back only later
/// calls to the same object from the same connection.
/// </para>
/// <para>
/// What a queued call reads stays valid: its parameters live in the inbound message, whose buffer
/// the frame reader allocated for that message alone and never reuses, and the capability table's
/// references belong to the request until its handler releases them. Nothing else reads the message
/// once it is delivered. A queue keeps a reference to its target while it has calls, so the object
/// is not disposed (a <c>Release</c> from the peer) before the calls that came first have started.
/// </para>
/// <para>
/// Allocation: none per call beyond the call's own context. Queues are reused: a drained one goes
/// back to a small free list. Lock order: <c>_gate</c> is a leaf lock; nothing is called under it.
/// </para>
/// </remarks>
internal sealed class HandlerQueue(ILogger logger)
{
    // Queues kept for reuse; beyond this many, a drained queue is left to the garbage collector.
    private const int MaxFreeQueues = 16;

    private readonly object _gate = new();

    // The queue of every target with calls waiting or starting; removed when its work item drains it.
    private readonly Dictionary<LocalServerHook, TargetQueue> _busy = new(ReferenceEqualityComparer.Instance);

    private readonly Stack<TargetQueue> _free = new();

    /// <summary>Starts <paramref name="call"/> on <paramref name="target"/> on the thread pool, after the calls already queued for it.</summary>
    public void Enqueue(LocalServerHook target, CallContext call, LocalPendingCall pending)
    {
        TargetQueue? schedule = null;
        lock (_gate)
        {
            if (!_busy.TryGetValue(target, out var queue))
            {
                queue = _free.Count > 0 ? _free.Pop() : new TargetQueue(this);
                queue.Target = (LocalServerHook)target.AddRef();
                _busy.Add(target, queue);
                schedule = queue;
            }

            queue.Calls.Enqueue((call, pending));
        }

        if (schedule is not null)
        {
            ThreadPool.UnsafeQueueUserWorkItem(schedule, preferLocal: false);
        }
    }

    /// <summary>Starts <paramref name="queue"/>'s calls one after another until it is empty (a thread-pool work item).</summary>
    private void Drain(TargetQueue queue)
    {
        // Read before the first TryTakeNext: once the queue is retired it may be reused at once.
        var target = queue.Target!;
        try
        {
            while (TryTakeNext(queue, out var next))
            {
                try
                {
                    next.Call.Run(target.Server, next.Pending);
                }
                catch (Exception error)
                {
                    // Run reports the handler's own failures to the caller; anything else is a bug
                    // here, and must not stop the calls queued behind this one.
                    CapnpLog.HandlerStartFailed(logger, error);
                }
            }
        }
        finally
        {
            // The last reference may dispose the object: here, on the pool, not on the reader.
            target.Release();
        }
    }

    /// <summary>The next call for <paramref name="queue"/>'s target; false once it is empty (then the queue is retired).</summary>
    private bool TryTakeNext(TargetQueue queue, out (CallContext Call, LocalPendingCall Pending) next)
    {
        lock (_gate)
        {
            if (queue.Calls.TryDequeue(out next))
            {
                return true;
            }

            // Retired under the lock: a call for the same target arriving now starts a new work item.
            _busy.Remove(queue.Target!);
            queue.Target = null;
            if (_free.Count < MaxFreeQueues)
            {
                _free.Push(queue);
            }

            return false;
        }
    }

    /// <summary>The calls waiting for one target, and the work item that starts them in order.</summary>
    private sealed class TargetQueue(HandlerQueue owner) : IThreadPoolWorkItem
    {
        /// <summary>Set (a reference this queue owns) while the queue is in <c>_busy</c>; null while it is free.</summary>
        public LocalServerHook? Target { get; set; }

        public Queue<(CallContext Call, LocalPendingCall Pending)> Calls { get; } = new();

        public void Execute() => owner.Drain(this);
    }
}
