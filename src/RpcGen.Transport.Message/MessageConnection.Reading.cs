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
                var consumed = buffer.Start;
                var framesCompleted = false;

                // Whether a frame other than a keepalive ping or pong arrived: only those count as
                // activity for RpcLimits.IdleTimeout, so a client's keepalive does not hold an idle
                // connection open on the server for ever.
                var activity = false;
                var paused = false;
                t_readerBatch = this;
                try
                {
                    while (true)
                    {
                        // Backpressure: while the peer does not take what we owe it, stop parsing
                        // what it sends (mid-batch: one read can hold hundreds of calls), so it
                        // cannot make us queue more answers (see OutboundBudget); likewise while
                        // the thread pool has not yet started the calls already handed to it.
                        if (framesCompleted && ReaderMustWait)
                        {
                            paused = true;
                            _timeouts?.OnRead(activity, partialFrameBytes: 0, declaredFrameBytes: 0);
                            break;
                        }

                        var status = FrameParser.TryParse(buffer, _limits.MaxFrameBytes, _limits.MaxMetadataBytes, out var header, out var payload, out var next, out var error);
                        if (status == FrameParseStatus.Incomplete)
                        {
                            _timeouts?.OnRead(activity, buffer.Length, buffer.IsEmpty ? 0 : FrameParser.DeclaredFrameBytes(buffer));
                            break;
                        }

                        if (status == FrameParseStatus.Invalid)
                        {
                            throw new ProtocolViolation(error!);
                        }

                        using var capabilities = RpcCapabilityContext.Enter(this);
                        if ((header.Flags & (byte)FrameFlags.CodecMask) == 0)
                        {
                            HandleFrame(header, payload);
                        }
                        else
                        {
                            HandleCompressedFrame(header, payload);
                        }

                        buffer = buffer.Slice(next);
                        consumed = next;
                        framesCompleted = true;
                        activity |= header.Kind is not (FrameKind.Ping or FrameKind.Pong);
                    }

                    if (!paused && (result.IsCompleted || result.IsCanceled))
                    {
                        reason = buffer.IsEmpty
                            ? new RpcException(RpcStatusCode.Disconnected, $"The connection to {Peer} was closed by the peer.")
                            : new RpcException(RpcStatusCode.Disconnected, $"The connection to {Peer} was closed in the middle of a frame ({buffer.Length} bytes of it arrived).");
                    }
                }
                finally
                {
                    t_readerBatch = null;
                    PublishStreamItems();

                    // Paused with whole frames left: mark nothing examined, so the next read
                    // returns them at once instead of waiting for more bytes.
                    input.AdvanceTo(consumed, paused ? consumed : buffer.End);
                }

                // Answers to the last calls before the peer stopped sending still go out: a peer
                // that half-closed its side may be reading them.
                FlushReaderBatch();
                if (framesCompleted)
                {
                    _keepAlive?.OnFramesReceived();
                }

                if (reason is not null)
                {
                    await WaitForQueuedCallsAsync().ConfigureAwait(false);
                    break;
                }

                if (paused || ReaderMustWait)
                {
                    await WaitForReaderRoomAsync().ConfigureAwait(false);
                }
            }
        }
        catch (ProtocolViolation ex)
        {
            reason = new RpcException(RpcStatusCode.ProtocolError, $"Protocol error from {Peer}: {ex.Message}");
            RpcLog.ProtocolViolation(Logger, Id, Peer, ex.Message);
            await SendAbortAsync(RpcStatusCode.ProtocolError, ex.Message).ConfigureAwait(false);
        }
        catch (RpcException ex)
        {
            reason = ex.StatusCode == RpcStatusCode.Disconnected ? ex : new RpcException(RpcStatusCode.Disconnected, ex.Message, ex);
        }
        catch (Exception ex) when (ex is InvalidOperationException or IOException)
        {
            reason = new RpcException(RpcStatusCode.Disconnected, $"The connection to {Peer} failed: {ex.Message}", ex);
        }
        catch (Exception ex)
        {
            // Whatever else escapes (a bug, or an input no check above foresaw) must not leave the
            // connection half-open with nobody reading it: close it and say why.
            reason = new RpcException(RpcStatusCode.Disconnected, $"The connection to {Peer} failed unexpectedly: {ex.GetType().Name}: {ex.Message}", ex);
            RpcLog.ConnectionFailed(Logger, Id, Peer, ex);
            await SendAbortAsync(RpcStatusCode.Failed, "The server failed while reading this connection.").ConfigureAwait(false);
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

    /// <summary>Waits until the reader may read again (see <see cref="OutboundBudget.ShouldPause"/>) or the connection closes.</summary>
    private ValueTask WaitForReaderRoomAsync()
    {
        if (_outbox.ReaderMustPause && _pauseLog.ShouldLog(Environment.TickCount64, out var unlogged))
        {
            RpcLog.ReaderPaused(Logger, Id, Peer, _outbox.HeldBytes, unlogged);
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
