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
        if (!_lifecycle.TryStartDraining())
        {
            return Task.CompletedTask;
        }

        var frame = FrameBuffer.Rent();
        frame.WriteHeader(new FrameHeader(FrameKind.GoAway, 0, 0, 0, 0, 0, 0));
        var written = IgnoreFailure(WriteFrameAsync(frame));

        // Story: the peer sends a call, then reads our GoAway. The call was on the wire before the
        // GoAway arrived, so closing as soon as nothing runs here would drop it, unread and
        // unanswered, and its caller could not tell whether it ran. The peer answers this ping after
        // reading the GoAway, so by the pong every such call has been read, and refused (marked not
        // processed, so a balancer sends it elsewhere) or run.
        SendPing(GoAwayPingSequence);
        return written;
    }

    /// <summary>The ping sequence reserved for the GoAway acknowledgement (keepalive counts up from 0 and never gets here).</summary>
    private const uint GoAwayPingSequence = uint.MaxValue;

    /// <summary>
    /// Answers a ping; the one after the peer's GoAway waits for calls caught between their check and
    /// their queueing (see <see cref="ConnectionLifecycle.BeginSending"/>).
    /// </summary>
    private void HandlePing(in FrameHeader header)
    {
        if (header.CallId == GoAwayPingSequence && _lifecycle.PeerDraining && _lifecycle.CallsBeingQueued)
        {
            _ = AnswerGoAwayPingWhenSentAsync();
            return;
        }

        SendControl(FrameKind.Pong, header.CallId);
    }

    private async Task AnswerGoAwayPingWhenSentAsync()
    {
        // The callers waited for are past their check and only queueing a frame: microseconds.
        while (_lifecycle.CallsBeingQueued)
        {
            await Task.Yield();
        }

        SendControl(FrameKind.Pong, GoAwayPingSequence);
    }

    /// <summary>
    /// Completes when, after <see cref="GoAwayAsync"/>, the peer has acknowledged the GoAway (or the
    /// connection closed) and no inbound call is running.
    /// </summary>
    public Task Drained => _lifecycle.Drained;

    public ValueTask DisposeAsync() =>
        new(CloseAsync(new RpcException(RpcStatusCode.Disconnected, "The connection was closed by this side.")));

    private async Task CloseAsync(RpcException reason, RefusalLinger? refusal = null)
    {
        if (!_lifecycle.TryClose())
        {
            await _closed.Task.ConfigureAwait(false);
            return;
        }

        _closeReason = reason;

        // The outbound table closes together with the reason: a call not listed by now is refused,
        // and one that is gets failed below.
        var pending = _outboundCalls.Close();
        _keepAlive?.Dispose();
        _handlerWorker?.Stop();
        _lifecycle.ReleaseDrainWaiters();

        // Every call waiting on this connection fails now, with the same reason.
        foreach (var call in pending)
        {
            call.Fail(new RpcException(RpcStatusCode.Disconnected, reason.Message, reason), RpcStatusCode.Disconnected);
        }

        _capabilities.ClearExports();

        var abort = new RpcException(RpcStatusCode.Disconnected, reason.Message, reason);
        var inbound = _inboundCalls.CancelAll();
        foreach (var (token, requestStream) in inbound)
        {
            ServerCall.Fire(token, requestStream, abort);
        }

        // Become the drainer for good, so no writer touches the link while it closes (writers see
        // the close reason and stop queueing). Frames queued before the close still go out, and the
        // link flushes them as it closes: a graceful stop waits for the last answer to be queued, not
        // for its drain to have run (a deferred drain, or a drainer that let go just as this close
        // took over).
        await _outbox.TakeOverForCloseAsync(_link).ConfigureAwait(false);
        _outbox.WriteRemainingToLink();

        try
        {
            await CloseLinkAsync(refusal).WaitAsync(TimeSpan.FromSeconds(5)).ConfigureAwait(false);
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

    /// <summary>Disposes the link; a refused connection lingers first while a slot is free (see <see cref="RefusalLinger"/>).</summary>
    private async Task CloseLinkAsync(RefusalLinger? refusal)
    {
        if (refusal is null || !refusal.TryEnter())
        {
            await _link.DisposeAsync().ConfigureAwait(false);
            return;
        }

        try
        {
            await _link.CloseLingeringAsync(RefusalLinger.MaxDiscardBytes, refusal.Time).ConfigureAwait(false);
        }
        finally
        {
            refusal.Exit();
        }
    }

    private RpcException Disconnected() =>
        new(RpcStatusCode.Disconnected, _closeReason?.Message ?? "The connection is closed.");
}
