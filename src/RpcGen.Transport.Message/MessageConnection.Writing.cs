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

/// <summary>Writing frames: when a writer sends its frame itself, leaves it to the drainer or waits for room; the queue and drain are <see cref="Outbox"/>.</summary>
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

        var queued = _outbox.Enqueue(frame);
        if (t_readerBatch == this)
        {
            // Our reader is mid-batch; it sends everything queued when the batch ends.
            return default;
        }

        if (!_outbox.TryBecomeDrainer())
        {
            // The drainer will take this frame. Only wait when the link is this far behind.
            return queued > _limits.MaxPendingBytes ? WaitForRoomAsync() : default;
        }

        if (_outboundCalls.Count + _lifecycle.InflightCalls > 1 && queued <= _limits.MaxPendingBytes && ThreadPool.PendingWorkItemCount > 0)
        {
            // Other calls are in flight and the thread pool has work queued, so their writers are
            // likely queued right behind us (continuations of responses that just arrived). Drain
            // from the back of that queue instead of now: their frames then leave with ours in one
            // system call. A lone call skips this and sends on its own thread, and so does a call
            // whose companions only wait (a long stream, a call held until its deadline) while the
            // pool has nothing queued: no writer is coming, and the hop would only add a thread
            // wake-up to this call's round trip (the soak's paced profile, issue 18).
            _outbox.DrainLater();
            return default;
        }

        return _outbox.Drain();
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

        return _outbox.Enqueue(frame) > _limits.MaxPendingBytes;
    }

    /// <summary>Sends every queued frame, unless a drainer is already doing it.</summary>
    internal ValueTask FlushQueuedAsync() => _outbox.FlushAsync();

    /// <summary>
    /// Sends what the reader queued during its batch (unless another writer is already draining).
    /// The reader does not wait for the send: what it queued stays counted until the link takes it,
    /// and the reader stops reading when the count says so (see <see cref="OutboundBudget"/>).
    /// </summary>
    private void FlushReaderBatch() => _outbox.Flush();

    /// <summary>
    /// The link refused a flush (the peer reset, or the link closed): close the connection, off this
    /// thread, so a reader paused for room and writers waiting for it are released instead of
    /// waiting for a drain that can no longer happen.
    /// </summary>
    internal RpcException OnLinkFailed(Exception ex)
    {
        var error = AsDisconnected(ex);
        if (!_lifecycle.IsClosed)
        {
            ThreadPool.UnsafeQueueUserWorkItem(static state => _ = state.Connection.CloseAsync(state.Error), (Connection: this, Error: error), preferLocal: false);
        }

        return error;
    }

    internal async ValueTask WaitForRoomAsync()
    {
        await _outbox.Room.WaitWhileAsync(() => _outbox.HeldBytes > _limits.MaxPendingBytes && _closeReason is null).ConfigureAwait(false);
        if (_closeReason is { } reason)
        {
            throw new RpcException(RpcStatusCode.Disconnected, reason.Message);
        }
    }

    private RpcException AsDisconnected(Exception ex) =>
        ex as RpcException ?? new RpcException(RpcStatusCode.Disconnected, $"The connection to {Peer} is closed.", ex);

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
