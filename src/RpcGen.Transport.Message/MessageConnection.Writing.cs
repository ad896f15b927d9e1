using System.Buffers;
using System.Diagnostics;
using System.IO.Pipelines;
using Microsoft.Extensions.Logging;
using RpcGen.Compression;
using RpcGen.Limits;
using RpcGen.Links;
using RpcGen.Logging;
using RpcGen.Serialization;
using RpcGen.Telemetry;

namespace RpcGen.Transport.Message;

/// <summary>The outbox: queuing built frames and draining them into the link in batches.</summary>
internal sealed partial class MessageConnection
{
    /// <summary>
    /// Queues a built frame for the link. The first writer to find nobody draining becomes the
    /// drainer: it copies every queued frame into the link and flushes (which sends, inline). Frames
    /// queued meanwhile by other callers go out with the next flush, so under load many frames share
    /// one system call, and a lone caller sends on its own thread without a hop.
    /// </summary>
    internal ValueTask WriteFrameAsync(FrameBuffer frame)
    {
        if (_closeReason is { } reason)
        {
            FrameBuffer.Return(frame);
            return ValueTask.FromException(new RpcException(RpcStatusCode.Disconnected, reason.Message));
        }

        var queued = Hold(frame);
        _outbox.Enqueue(frame);
        if (t_readerBatch == this)
        {
            // Our reader is mid-batch; it sends everything queued when the batch ends.
            return default;
        }

        if (Interlocked.CompareExchange(ref _draining, 1, 0) != 0)
        {
            // The drainer will take this frame. Only wait when the link is this far behind.
            return queued > _limits.MaxPendingBytes ? WaitForRoomAsync() : default;
        }

        if (_outboundCalls.Count + Volatile.Read(ref _inflight) > 1 && queued <= _limits.MaxPendingBytes)
        {
            // Other calls are in flight, so their writers are likely queued on the thread pool right
            // behind us (continuations of responses that just arrived). Drain from the back of that
            // queue instead of now: their frames then leave with ours in one system call. A lone call
            // skips this and sends on its own thread.
            ThreadPool.UnsafeQueueUserWorkItem(_deferredDrain, preferLocal: false);
            return default;
        }

        return DrainOutbox();
    }

    /// <summary>
    /// Queues a frame without sending it (the caller sends a burst with <see cref="FlushQueuedAsync"/>);
    /// returns true when the outbox is over <see cref="RpcLimits.MaxPendingBytes"/>.
    /// </summary>
    internal bool QueueFrame(FrameBuffer frame)
    {
        if (_closeReason is { } reason)
        {
            FrameBuffer.Return(frame);
            throw new RpcException(RpcStatusCode.Disconnected, reason.Message);
        }

        var queued = Hold(frame);
        _outbox.Enqueue(frame);
        return queued > _limits.MaxPendingBytes;
    }

    /// <summary>Sends every queued frame, unless a drainer is already doing it.</summary>
    internal ValueTask FlushQueuedAsync() =>
        _outbox.IsEmpty || Interlocked.CompareExchange(ref _draining, 1, 0) != 0 ? default : DrainOutbox();

    /// <summary>
    /// Sends what the reader queued during its batch (unless another writer is already draining).
    /// The reader does not wait for the send: what it queued stays counted until the link takes it,
    /// and the reader stops reading when the count says so (see <see cref="OutboundBudget"/>).
    /// </summary>
    private void FlushReaderBatch()
    {
        if (_outbox.IsEmpty || Interlocked.CompareExchange(ref _draining, 1, 0) != 0)
        {
            return;
        }

        var drain = DrainOutbox();
        if (!drain.IsCompletedSuccessfully)
        {
            _ = IgnoreFailure(drain);
        }
    }

    private ValueTask DrainOutbox()
    {
        var moved = 0L;
        try
        {
            while (true)
            {
                moved = MoveOutboxToLink();
                var flush = _output.FlushAsync();
                if (!flush.IsCompletedSuccessfully)
                {
                    var slow = DrainOutboxSlowAsync(flush, moved);
                    moved = 0;
                    return slow;
                }

                Unhold(moved);
                moved = 0;
                ThrowIfLinkClosed(flush.Result);
                if (!ReleaseDrainer())
                {
                    return default;
                }
            }
        }
        catch (Exception ex) when (ex is not OutOfMemoryException)
        {
            Unhold(moved);
            Volatile.Write(ref _draining, 0);
            return ValueTask.FromException(OnLinkFailed(ex));
        }
    }

    private async ValueTask DrainOutboxSlowAsync(ValueTask<FlushResult> pending, long moved)
    {
        try
        {
            var flushed = await pending.ConfigureAwait(false);
            Unhold(moved);
            moved = 0;
            ThrowIfLinkClosed(flushed);
            while (ReleaseDrainer())
            {
                moved = MoveOutboxToLink();
                flushed = await _output.FlushAsync().ConfigureAwait(false);
                Unhold(moved);
                moved = 0;
                ThrowIfLinkClosed(flushed);
            }
        }
        catch (Exception ex) when (ex is not OutOfMemoryException)
        {
            Unhold(moved);
            Volatile.Write(ref _draining, 0);
            throw OnLinkFailed(ex);
        }
    }

    /// <summary>
    /// The link refused a flush (the peer reset, or the link closed): close the connection, off this
    /// thread, so a reader paused for room and writers waiting for it are released instead of
    /// waiting for a drain that can no longer happen.
    /// </summary>
    private RpcException OnLinkFailed(Exception ex)
    {
        var error = AsDisconnected(ex);
        if (Volatile.Read(ref _state) != Closed)
        {
            ThreadPool.UnsafeQueueUserWorkItem(static state => _ = state.Connection.CloseAsync(state.Error), (Connection: this, Error: error), preferLocal: false);
        }

        return error;
    }

    /// <summary>Copies every queued frame into the link; returns the held bytes moved, which stay counted until their flush completes.</summary>
    private long MoveOutboxToLink()
    {
        var moved = 0L;
        while (_outbox.TryDequeue(out var frame))
        {
            try
            {
                moved += frame.HeldBytes;
                WriteToLink(frame);
            }
            finally
            {
                FrameBuffer.Return(frame);
            }
        }

        return moved;
    }

    /// <summary>Copies one queued frame (and the frame it leads with, if any) into the link's output.</summary>
    private void WriteToLink(FrameBuffer frame)
    {
        if (frame.Leading is { } leading)
        {
            _output.Write(leading.WrittenSpan);
        }

        _output.Write(frame.WrittenSpan);
    }

    /// <summary>Whether the reader must stop reading because the peer does not take what it is sent (server connections only).</summary>
    private bool ReaderMustPause => _budget?.ShouldPause(Volatile.Read(ref _outboxBytes)) == true;

    /// <summary>Counts a queued frame against this connection and the server; returns this connection's new total.</summary>
    private long Hold(FrameBuffer frame)
    {
        var held = frame.HeldBytes;
        _budget?.Add(held);
        return Interlocked.Add(ref _outboxBytes, held);
    }

    /// <summary>Stops counting bytes the link has taken, and wakes writers and the reader that wait for room.</summary>
    private void Unhold(long bytes)
    {
        if (bytes == 0)
        {
            return;
        }

        _budget?.Add(-bytes);
        Interlocked.Add(ref _outboxBytes, -bytes);

        // Each waiter re-checks its own condition (its limit, or the reader's budget rule).
        _room.Notify();
    }

    /// <summary>
    /// Gives up the drainer role; returns true when the caller must drain again because a frame
    /// was queued after the last look and its writer left it to us.
    /// </summary>
    private bool ReleaseDrainer()
    {
        Volatile.Write(ref _draining, 0);
        return !_outbox.IsEmpty && Interlocked.CompareExchange(ref _draining, 1, 0) == 0;
    }

    internal async ValueTask WaitForRoomAsync()
    {
        await _room.WaitWhileAsync(() => Volatile.Read(ref _outboxBytes) > _limits.MaxPendingBytes && _closeReason is null).ConfigureAwait(false);
        if (_closeReason is { } reason)
        {
            throw new RpcException(RpcStatusCode.Disconnected, reason.Message);
        }
    }

    /// <summary>Runs a drain that a writer handed to the thread pool; the drainer role is already taken for it.</summary>
    private sealed class DeferredDrain(MessageConnection connection) : IThreadPoolWorkItem
    {
        public void Execute()
        {
            var drain = connection.DrainOutbox();
            if (!drain.IsCompletedSuccessfully)
            {
                _ = IgnoreFailure(drain);
            }
        }
    }

    private RpcException AsDisconnected(Exception ex) =>
        ex as RpcException ?? new RpcException(RpcStatusCode.Disconnected, $"The connection to {Peer} is closed.", ex);

    private void ThrowIfLinkClosed(FlushResult result)
    {
        if (result.IsCompleted || result.IsCanceled)
        {
            throw new RpcException(RpcStatusCode.Disconnected, $"The connection to {Peer} is closed.");
        }
    }

    private async Task SendAbortAsync(RpcStatusCode code, string reason)
    {
        var frame = FrameBuffer.Rent();
        ErrorPayload.Write(frame, code, reason);
        frame.WriteHeader(new FrameHeader(FrameKind.Abort, 0, frame.PayloadLength, 0, 0, 0, 0));
        try
        {
            await WriteFrameAsync(frame).AsTask().WaitAsync(TimeSpan.FromSeconds(1)).ConfigureAwait(false);
        }
        catch (Exception ex) when (ex is RpcException or TimeoutException)
        {
            // The peer is not reading; closing is all that is left.
        }
    }
}
