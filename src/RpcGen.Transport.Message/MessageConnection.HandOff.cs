using System.Collections.Concurrent;
using RpcGen.Limits;
using RpcGen.Logging;

namespace RpcGen.Transport.Message;

/// <summary>
/// Inbound calls handed to the thread pool (<see cref="RpcHandlerExecution.ThreadPool"/>): counting
/// those not yet started, holding them back while the peer does not take our answers, and letting
/// the last ones answer when the peer stops sending.
/// </summary>
internal sealed partial class MessageConnection
{
    // A peer that half-closes still gets the answers to the calls it sent last, once their
    // handlers have run their synchronous part; a handler that blocks longer than this loses its
    // answer, because the connection then closes.
    private static readonly TimeSpan LastAnswersGrace = TimeSpan.FromSeconds(5);

    // The reader waits while this many calls it handed to the thread pool have not yet run (parked
    // ones included): reading on would only pile them up (and past MaxConcurrentCalls refuse the
    // rest of a burst a client pipelined), while a blocked handler has already run and does not
    // count. 256 is several batches of what one read returns under load.
    private const int QueuedCallsBeforeReaderWaits = 256;

    // Calls handed to the thread pool that have not yet run their synchronous part (parked ones
    // included). _queueEmptied wakes whoever waits for it to reach zero.
    private int _queuedCalls;
    private readonly RoomSignal _queueEmptied = new();

    // Calls whose turn came while this server connection held more answers than the peer takes
    // (the reader has stopped for the same reason). They wait here, not started, so a burst read
    // before the first answer existed cannot add its answers on top of the limit. _resumingParked
    // is 1 while one task waits for room to send them back to the pool.
    private readonly ConcurrentQueue<ServerCall> _parked = new();
    private int _resumingParked;

    /// <summary>What a queued call does when its thread-pool turn comes.</summary>
    internal enum QueuedCallTurn
    {
        /// <summary>Run the implementation now.</summary>
        Run,

        /// <summary>The call was parked until the peer takes our answers; it comes back to the pool then.</summary>
        Parked,

        /// <summary>The connection closed first: nobody can get the answer, so the implementation is not run.</summary>
        Closed,
    }

    // The connection's own handler thread, when the link's hand-offs are cheaper than a pool
    // thread's wake (see HandlerWorker); created by the reader for the first inbound call, stopped
    // on close. Null on other links, with inline handlers, and before the first call.
    private HandlerWorker? _handlerWorker;

    /// <summary>
    /// Runs a queued call (<see cref="RpcHandlerExecution.ThreadPool"/>) on the handler worker when it
    /// waits for one, else on the thread pool. Called by the reader.
    /// </summary>
    internal void QueueHandler(IThreadPoolWorkItem call)
    {
        if (_handOffSpin.IsEnabled && _closeReason is null)
        {
            _handlerWorker ??= new HandlerWorker(_link, Id, () => _lifecycle.InflightCalls > 0);
            if (_handlerWorker.TryRun(call))
            {
                return;
            }
        }

        ThreadPool.UnsafeQueueUserWorkItem(call, preferLocal: false);
    }

    /// <summary>Counts a call handed to the thread pool.</summary>
    internal void OnCallQueued() => Interlocked.Increment(ref _queuedCalls);

    /// <summary>Called when a queued call's turn comes, before it runs user code.</summary>
    internal QueuedCallTurn TakeTurn(ServerCall call)
    {
        if (_closeReason is not null)
        {
            return QueuedCallTurn.Closed;
        }

        if (!_outbox.ReaderMustPause)
        {
            return QueuedCallTurn.Run;
        }

        _parked.Enqueue(call);
        if (Interlocked.CompareExchange(ref _resumingParked, 1, 0) == 0)
        {
            if (_heldBackLog.ShouldLog(Environment.TickCount64, out var unlogged))
            {
                RpcLog.CallsHeldBack(Logger, Id, Peer, _outbox.HeldBytes, unlogged);
            }
            _ = ResumeParkedWhenRoomAsync();
        }

        return QueuedCallTurn.Parked;
    }

    /// <summary>A queued call has run its synchronous part (or was dropped because the connection closed).</summary>
    internal void OnQueuedCallRan()
    {
        var left = Interlocked.Decrement(ref _queuedCalls);
        if (left == QueuedCallsBeforeReaderWaits - 1)
        {
            _outbox.Room.Notify();
        }

        if (left == 0)
        {
            _queueEmptied.Notify();
        }
    }

    /// <summary>Whether the reader must wait before parsing another frame: for room (see <see cref="Outbox.ReaderMustPause"/>) or for the thread pool to catch up.</summary>
    private bool ReaderMustWait => _outbox.ReaderMustPause || Volatile.Read(ref _queuedCalls) >= QueuedCallsBeforeReaderWaits;

    private async Task ResumeParkedWhenRoomAsync()
    {
        while (true)
        {
            await _outbox.Room.WaitWhileAsync(() => _outbox.ReaderMustPause && _closeReason is null).ConfigureAwait(false);
            while (_parked.TryDequeue(out var call))
            {
                ThreadPool.UnsafeQueueUserWorkItem(call, preferLocal: false);
            }

            Volatile.Write(ref _resumingParked, 0);

            // A call parked after the queue emptied but before the flag was cleared found the flag
            // still set and left its resumption to us: look once more.
            if (_parked.IsEmpty || Interlocked.CompareExchange(ref _resumingParked, 1, 0) != 0)
            {
                return;
            }
        }
    }

    /// <summary>
    /// Waits (up to <see cref="LastAnswersGrace"/>) until every call handed to the thread pool has
    /// run its synchronous part, so the answers of calls read just before the peer stopped sending
    /// are queued before the connection closes.
    /// </summary>
    private async ValueTask WaitForQueuedCallsAsync()
    {
        if (Volatile.Read(ref _queuedCalls) == 0)
        {
            return;
        }

        try
        {
            await _queueEmptied.WaitWhileAsync(() => Volatile.Read(ref _queuedCalls) > 0 && _closeReason is null)
                .AsTask().WaitAsync(LastAnswersGrace).ConfigureAwait(false);
        }
        catch (TimeoutException)
        {
            // A handler is still blocked; its answer is lost with the connection.
        }
    }
}
