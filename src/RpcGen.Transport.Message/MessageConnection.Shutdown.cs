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

/// <summary>Graceful drain, abort and close.</summary>
internal sealed partial class MessageConnection
{
    /// <summary>
    /// Stops accepting inbound calls (synchronously: a call read after this returns is refused)
    /// and tells the peer not to start new ones.
    /// </summary>
    public Task GoAwayAsync()
    {
        if (Interlocked.CompareExchange(ref _state, Draining, Open) != Open)
        {
            return Task.CompletedTask;
        }

        if (Volatile.Read(ref _inflight) == 0)
        {
            _drained.TrySetResult();
        }

        var frame = FrameBuffer.Rent();
        frame.WriteHeader(new FrameHeader(FrameKind.GoAway, 0, 0, 0, 0, 0, 0));
        return IgnoreFailure(WriteFrameAsync(frame));
    }

    /// <summary>Completes when, after <see cref="GoAwayAsync"/>, no inbound call is running.</summary>
    public Task Drained => _drained.Task;

    public ValueTask DisposeAsync() =>
        new(CloseAsync(new RpcException(RpcStatusCode.Disconnected, "The connection was closed by this side.")));

    private async Task CloseAsync(RpcException reason)
    {
        if (Interlocked.Exchange(ref _state, Closed) == Closed)
        {
            await _closed.Task.ConfigureAwait(false);
            return;
        }

        _closeReason = reason;
        _keepAlive?.Dispose();
        _handlerWorker?.Stop();
        _drained.TrySetResult();

        PendingCall[] pending;
        lock (_pending)
        {
            pending = [.. _pending.Values];
            _pending.Clear();
        }

        // Every call waiting on this connection fails now, with the same reason.
        foreach (var call in pending)
        {
            call.Fail(new RpcException(RpcStatusCode.Disconnected, reason.Message, reason), RpcStatusCode.Disconnected);
        }

        lock (_exports)
        {
            // The peer is gone, and with it every reference to what we exported.
            _exports.Clear();
            _exportIds.Clear();
        }

        var abort = new RpcException(RpcStatusCode.Disconnected, reason.Message, reason);
        List<(CancellationTokenSource? Token, IStreamReceiver? RequestStream)> inbound;
        lock (_inbound)
        {
            inbound = _inbound.Values.Select(call => call.MarkCancelled()).ToList();
        }

        foreach (var (token, requestStream) in inbound)
        {
            ServerCall.Fire(token, requestStream, abort);
        }

        // Become the drainer for good, so no writer touches the link while it closes (writers see
        // the close reason and stop queueing). A drainer stuck flushing into a dead link is
        // released by aborting the link.
        var waitingSince = Stopwatch.GetTimestamp();
        while (Interlocked.CompareExchange(ref _draining, 1, 0) != 0)
        {
            if (Stopwatch.GetElapsedTime(waitingSince) > TimeSpan.FromSeconds(2))
            {
                _link.Abort();
                break;
            }

            await Task.Yield();
        }

        _room.Notify();

        // Frames queued before the close still go out, and the link flushes them as it closes: a
        // graceful stop waits for the last answer to be queued, not for its drain to have run (a
        // deferred drain, or a drainer that let go just as this close took over). Once the link
        // refuses one, the rest are dropped.
        var linkTakesFrames = true;
        while (_outbox.TryDequeue(out var queued))
        {
            try
            {
                if (linkTakesFrames)
                {
                    WriteToLink(queued);
                }
            }
            catch (Exception ex) when (ex is InvalidOperationException or IOException or ObjectDisposedException)
            {
                linkTakesFrames = false;
            }
            finally
            {
                Unhold(queued.HeldBytes);
                FrameBuffer.Return(queued);
            }
        }

        try
        {
            await _link.DisposeAsync().AsTask().WaitAsync(TimeSpan.FromSeconds(5)).ConfigureAwait(false);
        }
        catch (Exception)
        {
            // Timed out behind a peer that does not read, or the link failed: nothing more to send.
            _link.Abort();
        }

        // The server forgets the connection (and frees its slot) before the close is logged, so a
        // client that reads the log line and reconnects finds the slot free.
        _onClosed?.Invoke(this);
        RpcLog.ConnectionClosed(Logger, Id, Peer, reason.Message);
        _closed.TrySetResult();
    }

    private RpcException Disconnected() =>
        new(RpcStatusCode.Disconnected, _closeReason?.Message ?? "The connection is closed.");
}
