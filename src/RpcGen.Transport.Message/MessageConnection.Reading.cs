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

/// <summary>The reader loop: parsing frames, backpressure, and handling each kind of frame.</summary>
internal sealed partial class MessageConnection
{
    private async Task ReadLoopAsync()
    {
        var input = _link.Input;
        RpcException? reason = null;
        try
        {
            while (true)
            {
                var result = await input.ReadAsync().ConfigureAwait(false);
                var buffer = result.Buffer;
                var batch = new ReadBatch(buffer);
                try
                {
                    ParseFrames(ref batch);
                }
                finally
                {
                    // Paused with whole frames left: mark nothing examined, so the next read
                    // returns them at once instead of waiting for more bytes.
                    input.AdvanceTo(batch.Rest.Start, batch.Paused ? batch.Rest.Start : buffer.End);
                }

                if (!batch.Paused && (result.IsCompleted || result.IsCanceled))
                {
                    reason = InputEnded(batch.Rest.Length);
                }

                // Answers to the last calls before the peer stopped sending still go out: a peer
                // that half-closed its side may be reading them.
                EndReadBatch(batch.FramesCompleted);
                if (reason is not null)
                {
                    await WaitForQueuedCallsAsync().ConfigureAwait(false);
                    break;
                }

                if (batch.Paused || ReaderMustWait)
                {
                    await WaitForReaderRoomAsync().ConfigureAwait(false);
                }
            }
        }
        catch (Exception ex)
        {
            reason = await ReadFailedAsync(ex).ConfigureAwait(false);
        }

        try
        {
            await CloseAsync(reason ?? new RpcException(RpcStatusCode.Disconnected, "The connection was closed.")).ConfigureAwait(false);
        }
        finally
        {
            await input.CompleteAsync().ConfigureAwait(false);
        }
    }

    /// <summary>What one batch of parsing got through: the bytes left, and whether frames were handled or the reader must wait.</summary>
    private struct ReadBatch(ReadOnlySequence<byte> received)
    {
        /// <summary>What is not parsed yet: an incomplete frame, or whole frames left while paused.</summary>
        public ReadOnlySequence<byte> Rest = received;

        public bool FramesCompleted;

        public bool Paused;
    }

    /// <summary>
    /// Parses and handles the whole frames at the front of <see cref="ReadBatch.Rest"/> (one read's
    /// worth, or one delivery of a frame sink), moving it on frame by frame, so it is right even when
    /// a frame throws. Throws <see cref="ProtocolViolation"/> for input that breaks the protocol.
    /// </summary>
    private void ParseFrames(ref ReadBatch batch)
    {
        // Whether a frame other than a keepalive ping or pong arrived: only those count as
        // activity for RpcLimits.IdleTimeout, so a client's keepalive does not hold an idle
        // connection open on the server for ever.
        var activity = false;
        t_readerBatch = this;
        try
        {
            while (true)
            {
                // Backpressure: while the peer does not take what we owe it, stop parsing
                // what it sends (mid-batch: one read can hold hundreds of calls), so it
                // cannot make us queue more answers (see OutboundBudget); likewise while
                // the thread pool has not yet started the calls already handed to it.
                if (batch.FramesCompleted && ReaderMustWait)
                {
                    batch.Paused = true;
                    _timeouts?.OnRead(activity, partialFrameBytes: 0, declaredFrameBytes: 0);
                    return;
                }

                var buffer = batch.Rest;
                var status = FrameParser.TryParse(buffer, _limits.MaxFrameBytes, _limits.MaxMetadataBytes, out var header, out var payload, out var next, out var error);
                if (status == FrameParseStatus.Incomplete)
                {
                    _timeouts?.OnRead(activity, buffer.Length, buffer.IsEmpty ? 0 : FrameParser.DeclaredFrameBytes(buffer));
                    return;
                }

                if (status == FrameParseStatus.Invalid)
                {
                    throw new ProtocolViolation(error!);
                }

                using (RpcCapabilityContext.Enter(this))
                {
                    if ((header.Flags & (byte)FrameFlags.CodecMask) == 0)
                    {
                        HandleFrame(header, payload);
                    }
                    else
                    {
                        HandleCompressedFrame(header, payload);
                    }
                }

                batch.Rest = buffer.Slice(next);
                batch.FramesCompleted = true;
                activity |= header.Kind is not (FrameKind.Ping or FrameKind.Pong);
            }
        }
        finally
        {
            t_readerBatch = null;
            PublishStreamItems();
        }
    }

    /// <summary>After a batch: the frames the reader queued meanwhile go out, and keepalive hears of the frames.</summary>
    private void EndReadBatch(bool framesCompleted)
    {
        FlushReaderBatch();
        if (framesCompleted)
        {
            _keepAlive?.OnFramesReceived();
        }
    }

    /// <summary>Why reading ends when the peer closed its side, with <paramref name="unparsedBytes"/> of an incomplete frame left.</summary>
    private RpcException InputEnded(long unparsedBytes) =>
        unparsedBytes == 0
            ? new RpcException(RpcStatusCode.Disconnected, $"The connection to {Peer} was closed by the peer.")
            : new RpcException(RpcStatusCode.Disconnected, $"The connection to {Peer} was closed in the middle of a frame ({unparsedBytes} bytes of it arrived).");

    /// <summary>Why reading failed with <paramref name="ex"/>; tells the peer first when it broke the protocol (or this side failed).</summary>
    private async Task<RpcException> ReadFailedAsync(Exception ex)
    {
        switch (ex)
        {
            case ProtocolViolation violation:
                RpcLog.ProtocolViolation(Logger, Id, Peer, violation.Message);
                try
                {
                    await SendAbortAsync(RpcStatusCode.ProtocolError, violation.Message).ConfigureAwait(false);
                }
                finally
                {
                    if (_versionRefusal is { } refusal)
                    {
                        _peerHello.TrySetException(refusal);
                    }
                }

                return new RpcException(RpcStatusCode.ProtocolError, $"Protocol error from {Peer}: {violation.Message}");
            case RpcException rpc:
                return rpc.StatusCode == RpcStatusCode.Disconnected ? rpc : new RpcException(RpcStatusCode.Disconnected, rpc.Message, rpc);
            case InvalidOperationException or IOException:
                return new RpcException(RpcStatusCode.Disconnected, $"The connection to {Peer} failed: {ex.Message}", ex);
            default:
                // Whatever else escapes (a bug, or an input no check above foresaw) must not leave the
                // connection half-open with nobody reading it: close it and say why.
                RpcLog.ConnectionFailed(Logger, Id, Peer, ex);
                await SendAbortAsync(RpcStatusCode.Failed, "The server failed while reading this connection.").ConfigureAwait(false);
                return new RpcException(RpcStatusCode.Disconnected, $"The connection to {Peer} failed unexpectedly: {ex.GetType().Name}: {ex.Message}", ex);
        }
    }

    /// <summary>Waits until the reader may read again (see <see cref="OutboundBudget.ShouldPause"/>) or the connection closes.</summary>
    private ValueTask WaitForReaderRoomAsync()
    {
        if (ReaderMustWait && _pauseLog.ShouldLog(Environment.TickCount64, out var unlogged))
        {
            if (_outbox.ReaderMustPause)
            {
                RpcLog.ReaderPaused(Logger, Id, Peer, _outbox.HeldBytes, unlogged);
            }
            else
            {
                RpcLog.ReaderPausedForCalls(Logger, Id, Peer, Volatile.Read(ref _queuedCalls), unlogged);
            }
        }

        return _outbox.Room.WaitWhileAsync(() => ReaderMustWait && _closeReason is null);
    }

    /// <summary>
    /// Decompresses a payload into a pooled buffer of exactly the declared size (checked against
    /// the frame limit first, so a bomb cannot make this allocate more), then handles the frame.
    /// </summary>
    private void HandleCompressedFrame(in FrameHeader header, in ReadOnlySequence<byte> compressed)
    {
        var codec = (RpcCompression)(header.Flags & (byte)FrameFlags.CodecMask);
        if (compressed.Length < 4)
        {
            throw new ProtocolViolation($"A {codec} frame is too short to hold its uncompressed length.");
        }

        Span<byte> prefix = stackalloc byte[4];
        compressed.Slice(0, 4).CopyTo(prefix);
        var declared = System.Buffers.Binary.BinaryPrimitives.ReadInt32LittleEndian(prefix);
        if (declared < 0 || declared > _limits.MaxFrameBytes)
        {
            throw new ProtocolViolation($"A {codec} frame declares {declared} bytes uncompressed, over the limit of {_limits.MaxFrameBytes} bytes (RpcLimits.MaxFrameBytes).");
        }

        var body = compressed.Slice(4);
        var input = ArrayPool<byte>.Shared.Rent((int)body.Length);
        var output = ArrayPool<byte>.Shared.Rent(declared);
        try
        {
            body.CopyTo(input);
            try
            {
                RpcCodecs.Decompress(codec, input.AsSpan(0, (int)body.Length), output.AsSpan(0, declared));
            }
            catch (InvalidDataException ex)
            {
                throw new ProtocolViolation(ex.Message);
            }

            HandleFrame(header, new ReadOnlySequence<byte>(output, 0, declared));
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(input);
            ArrayPool<byte>.Shared.Return(output);
        }
    }

    private void HandleFrame(in FrameHeader header, in ReadOnlySequence<byte> payload)
    {
        CheckHandshakeOrder(header.Kind);
        var metadata = _heldMetadata is null ? null : TakeHeldMetadata(header);
        switch (header.Kind)
        {
            case FrameKind.Request:
            case FrameKind.OneWay:
                HandleCall(header, payload, metadata);
                break;
            case FrameKind.Response:
                HandleResponse(header, payload, metadata);
                break;
            case FrameKind.Error:
                HandleError(header, payload, metadata);
                break;
            case FrameKind.Metadata:
                _heldMetadata = MetadataPayload.Read(payload, _limits.MaxMetadataEntries, "metadata");
                _heldMetadataCallId = header.CallId;
                break;
            case FrameKind.Cancel:
                HandleCancel(header);
                break;
            case FrameKind.GoAway:
                _lifecycle.OnPeerGoAway();
                break;
            case FrameKind.Abort:
                var abort = ErrorPayload.Read(payload);
                throw new RpcException(RpcStatusCode.Disconnected, $"The peer aborted the connection: {abort.Message}");
            case FrameKind.StreamItem:
            case FrameKind.StreamEnd:
            case FrameKind.StreamCredit:
                HandleStreamFrame(header, payload);
                break;
            case FrameKind.Release:
                HandleRelease(header);
                break;
            case FrameKind.Ping:
                HandlePing(header);
                break;
            case FrameKind.Pong:
                HandlePong(header);
                break;
            case FrameKind.Hello:
                HandleHello(payload);
                break;
        }
    }

    private void HandleStreamFrame(in FrameHeader header, in ReadOnlySequence<byte> payload)
    {
        var error = header.Kind == FrameKind.StreamEnd && header.PayloadLength > 0 ? ErrorPayload.Read(payload) : null;
        if (((FrameFlags)header.Flags & FrameFlags.FromCaller) != 0)
        {
            // The peer's own call, which this side serves.
            _inboundCalls.OnStreamFrame(header, payload, error);
            return;
        }

        // A call this side made. A stream end finishes the call, so it leaves the table; items, the
        // bulk of the frames, find their call without the table's lock while it stays open.
        var pending = header.Kind == FrameKind.StreamItem
            ? _outboundCalls.FindForStreamItem(header.CallId)
            : _outboundCalls.FindForStreamFrame(header.CallId, isStreamEnd: header.Kind == FrameKind.StreamEnd);

        switch (header.Kind)
        {
            case FrameKind.StreamItem:
                pending?.OnStreamItem(payload);
                break;
            case FrameKind.StreamEnd:
                pending?.OnStreamEnd(error);
                break;
            default:
                pending?.OnCredit(header.MethodId);
                break;
        }
    }

    /// <summary>
    /// Hands the held metadata to <paramref name="next"/>, the frame right after it, which must be the
    /// request or answer of the same call: anything else means the peer does not follow the protocol
    /// (or tries to make this side hold metadata for a call that never comes).
    /// </summary>
    private RpcMetadata TakeHeldMetadata(in FrameHeader next)
    {
        var metadata = _heldMetadata!;
        _heldMetadata = null;
        if (next.Kind is not (FrameKind.Request or FrameKind.OneWay or FrameKind.Response or FrameKind.Error) || next.CallId != _heldMetadataCallId)
        {
            throw new ProtocolViolation($"The peer sent metadata for call {_heldMetadataCallId}, then a {next.Kind} frame for call {next.CallId}; metadata must come immediately before the request, response or error of its call.");
        }

        return metadata;
    }

    private void HandleResponse(in FrameHeader header, in ReadOnlySequence<byte> payload, RpcMetadata? trailers)
    {
        // An unknown id is a call this side already gave up on (cancelled or timed out): the
        // answer crossed the Cancel frame on the wire.
        if (TakeAnswered(header.CallId) is { } call)
        {
            call.TrailerSink?.SetTrailers(trailers);
            call.CompleteWithPayload(payload);
        }
    }

    private void HandleError(in FrameHeader header, in ReadOnlySequence<byte> payload, RpcMetadata? trailers)
    {
        if (TakeAnswered(header.CallId) is { } call)
        {
            RpcException error;
            try
            {
                error = ErrorPayload.Read(payload, _limits.MaxMetadataEntries);
            }
            catch (Exception ex) when (ex is not RpcException)
            {
                // The call is out of the pending table already: fail it here, or nothing ever will.
                // The reader's own handler then closes the connection as for any unexpected error.
                call.Fail(new RpcException(RpcStatusCode.ProtocolError, $"The peer's error frame for this call does not decode: {ex.Message}", ex), RpcStatusCode.ProtocolError);
                throw;
            }

            call.TrailerSink?.SetTrailers(trailers);
            call.Fail(error, error.StatusCode);
        }
    }

    private void HandleCancel(in FrameHeader header)
    {
        var fire = _inboundCalls.Cancel(header.CallId);
        ServerCall.Fire(fire.Token, fire.RequestStream, reason: null);
    }
}
