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

/// <summary>Calls the peer makes: finding the method, admitting the call and running it, and the answers.</summary>
internal sealed partial class MessageConnection
{
    /// <summary>Sends a call's response, after its <paramref name="trailers"/> (if any); returns the status the call ended with.</summary>
    internal RpcStatusCode SendResponse<T>(uint callId, T value, IRpcFormatter<T> formatter, RpcCompression codec, RpcMetadata? trailers = null, bool onLane = false)
    {
        var frame = FrameBuffer.Rent();
        if (BuildPayload(frame, value, formatter, "response", codec) is { } invalid)
        {
            FrameBuffer.Return(frame);
            SendError(callId, invalid.StatusCode, invalid.Message);
            return invalid.StatusCode;
        }

        return SendResponse(callId, frame, trailers, onLane);
    }

    /// <summary>Builds a response frame to send later (<see cref="SendResponse(uint, FrameBuffer, RpcMetadata?, bool)"/>); null, with the reason, when it cannot be serialized.</summary>
    internal FrameBuffer? BuildResponse<T>(T value, IRpcFormatter<T> formatter, RpcCompression codec, out RpcException? invalid)
    {
        var frame = FrameBuffer.Rent();
        invalid = BuildPayload(frame, value, formatter, "response", codec);
        if (invalid is not null)
        {
            FrameBuffer.Return(frame);
            return null;
        }

        return frame;
    }

    /// <summary>
    /// Sends a response built by <see cref="BuildResponse"/>, after its <paramref name="trailers"/>;
    /// returns the status the call ended with. <paramref name="onLane"/>: the call came on the link's
    /// call lane, so a plain answer goes back there when no other call runs and the lane takes it.
    /// </summary>
    internal RpcStatusCode SendResponse(uint callId, FrameBuffer frame, RpcMetadata? trailers, bool onLane = false)
    {
        frame.Leading = BuildMetadata(trailers, null, "response trailers", out var refused);
        if (refused is not null)
        {
            // The caller must not get a success whose trailers were silently lost.
            FrameBuffer.Return(frame);
            SendError(callId, refused.StatusCode, refused.Message);
            return refused.StatusCode;
        }

        frame.WriteHeader(new FrameHeader(FrameKind.Response, 0, frame.PayloadLength, callId, 0, 0, 0));
        WriteMetadataHeader(frame, callId);
        // Only a lone call answers on the lane: the lane carries one frame per hand-off, so with
        // other calls running their answers leave together through the byte stream, one hand-off
        // (and at most one wake of the peer's receiving thread) for the lot.
        if (onLane && frame.Leading is null && _lifecycle.InflightCalls <= 1 && _link.TrySendOnLane(frame.WrittenSpan))
        {
            FrameBuffer.Return(frame);
            return RpcStatusCode.Ok;
        }

        Send(frame);
        return RpcStatusCode.Ok;
    }

    private static readonly RpcMetadata s_notProcessedDraining = RpcException.NotProcessedDetail("draining");

    internal void SendError(uint callId, RpcStatusCode code, string message) =>
        SendError(callId, code, message, detail: null, trailers: null);

    /// <summary>Sends a call's error with its <paramref name="detail"/>, after its <paramref name="trailers"/> (trailers over the limits are dropped, and the message says so).</summary>
    internal void SendError(uint callId, RpcStatusCode code, string message, RpcMetadata? detail, RpcMetadata? trailers)
    {
        var frame = FrameBuffer.Rent();
        frame.Leading = BuildMetadata(trailers, null, "response trailers", out var refused);
        if (refused is not null)
        {
            message += $" ({refused.Message} They were dropped.)";
        }

        ErrorPayload.Write(frame, code, message, detail, _limits);
        frame.WriteHeader(new FrameHeader(FrameKind.Error, 0, frame.PayloadLength, callId, 0, 0, 0));
        WriteMetadataHeader(frame, callId);
        Send(frame);
    }

    /// <summary>Queues a frame whose sending nobody waits for (a failure closes the connection anyway).</summary>
    private void Send(FrameBuffer frame)
    {
        var write = WriteFrameAsync(frame);
        if (!write.IsCompletedSuccessfully)
        {
            _ = IgnoreFailure(write);
        }
    }

    /// <summary>Builds a frame around <paramref name="value"/>; throws <see cref="RpcException"/> when it cannot be serialized or is over the limit.</summary>
    internal FrameBuffer BuildFrame<T>(T value, IRpcFormatter<T> formatter, string what, RpcCompression codec)
    {
        var frame = FrameBuffer.Rent();
        if (BuildPayload(frame, value, formatter, what, codec) is { } invalid)
        {
            FrameBuffer.Return(frame);
            throw invalid;
        }

        return frame;
    }

    internal void SendCredit(uint callId, FrameFlags flags, uint bytes)
    {
        var frame = FrameBuffer.Rent();
        frame.WriteHeader(new FrameHeader(FrameKind.StreamCredit, (byte)flags, 0, callId, bytes, 0, 0));
        var write = WriteFrameAsync(frame);
        if (!write.IsCompletedSuccessfully)
        {
            _ = IgnoreFailure(write);
        }
    }

    internal void SendStreamEnd(uint callId, FrameFlags flags, RpcException? error)
    {
        var frame = FrameBuffer.Rent();
        if (error is not null)
        {
            ErrorPayload.Write(frame, error.StatusCode, error.Message);
        }

        frame.WriteHeader(new FrameHeader(FrameKind.StreamEnd, (byte)flags, frame.PayloadLength, callId, 0, 0, 0));
        var write = WriteFrameAsync(frame);
        if (!write.IsCompletedSuccessfully)
        {
            _ = IgnoreFailure(write);
        }
    }

    internal void OnInboundFinished(ServerCall call)
    {
        if (!call.IsOneWay)
        {
            _inboundCalls.Remove(call);
        }

        _lifecycle.LeaveCall();
    }

    private void HandleCall(in FrameHeader header, in ReadOnlySequence<byte> payload, RpcMetadata? headers)
    {
        var oneWay = header.Kind == FrameKind.OneWay;
        if ((header.Flags & (byte)FrameFlags.ToExport) != 0)
        {
            if (_capabilities.FindExport(header.ServiceId) is not { } exported)
            {
                if (!oneWay)
                {
                    SendError(header.CallId, RpcStatusCode.Disconnected, $"Object {header.ServiceId} was released or never exported; it cannot be called.");
                }

                return;
            }

            Dispatch(header, payload, exported, oneWay, headers);
            return;
        }

        if (_dispatchers is null || !_dispatchers.TryGetValue(header.ServiceId, out var dispatcher))
        {
            MessageLog.UnknownService(Logger, Id, header.CallId, header.ServiceId);
            if (!oneWay)
            {
                SendError(header.CallId, RpcStatusCode.Unimplemented, $"No service with id 0x{header.ServiceId:x16} is served here, so method 0x{header.MethodId:x8} of it cannot be called (is the service registered on this server?).");
            }

            return;
        }

        Dispatch(header, payload, dispatcher, oneWay, headers);
    }

    private void Dispatch(in FrameHeader header, in ReadOnlySequence<byte> payload, IRpcDispatcher dispatcher, bool oneWay, RpcMetadata? headers)
    {
        var method = dispatcher.FindMethod(header.MethodId);
        if (method is null)
        {
            if (!oneWay)
            {
                SendError(header.CallId, RpcStatusCode.Unimplemented, $"Service {dispatcher.Service.Name} (0x{dispatcher.Service.Id:x16}) has no method with id 0x{header.MethodId:x8} (is the caller's contract newer than the server's?).");
            }

            return;
        }

        if (oneWay != (method.Kind == RpcMethodKind.OneWay))
        {
            RefuseMismatchedCall(header, method, oneWay);
            return;
        }

        // Counted before the state is read, so a drain either waits for this call or refuses it (see
        // ConnectionLifecycle). Counted after the check, a call could pass the check, the drain could
        // see no call in flight, and the connection could close under the running call.
        if (!_lifecycle.TryEnterCall())
        {
            if (!oneWay)
            {
                // Refused before dispatch: marked so the caller's balancer may send it to another server.
                SendError(header.CallId, RpcStatusCode.Disconnected, "The server is shutting down and accepts no new calls.", s_notProcessedDraining, trailers: null);
            }

            return;
        }

        if (_lifecycle.InflightCalls > _limits.MaxConcurrentCalls)
        {
            _lifecycle.LeaveCall();
            var reason = $"The connection already has {_limits.MaxConcurrentCalls} calls in flight (RpcLimits.MaxConcurrentCalls).";
            RpcLog.CallRefused(Logger, Id, reason);
            if (!oneWay)
            {
                SendError(header.CallId, RpcStatusCode.Overloaded, reason);
            }

            return;
        }

        // Answer in the codec the caller asked for, else in the request's own.
        var replyCodec = (RpcCompression)((header.Flags & (byte)FrameFlags.ReplyCodecMask) >> 3);
        var codec = replyCodec != RpcCompression.None ? replyCodec : (RpcCompression)(header.Flags & (byte)FrameFlags.CodecMask);
        var call = ServerCall.Rent(this, method, header.CallId, oneWay, header.DeadlineMicroseconds, _limits, codec, headers, _peerTags.Inbound);
        call.AnswersOnLane = _laneInbound && !oneWay;
        if (!oneWay)
        {
            _inboundCalls.Add(call);
        }

        if (_handlerExecution == RpcHandlerExecution.Inline)
        {
            call.RunInline(dispatcher, payload);
        }
        else
        {
            // The payload lives in the reader's buffer, which is reused as soon as this frame is
            // handled, so the call takes a copy along to the thread pool.
            call.QueueToThreadPool(dispatcher, payload);
        }
    }

    /// <summary>
    /// Refuses a call whose frame kind does not fit its method: a one-way frame cannot run a two-way
    /// or streaming method (nobody could cancel it, and a stream would hold a call slot for good),
    /// and a request cannot run a one-way method. The caller gets an error when it can take one; a
    /// peer that keeps doing it is aborted.
    /// </summary>
    /// <summary>
    /// Asks the server's authorizers whether <paramref name="method"/> may run for this peer; returns
    /// why not, or null. Authorizers are user code, so this runs where the implementation would,
    /// never on the reader (unless handlers run inline).
    /// </summary>
    internal string? Authorize(RpcMethodInfo method)
    {
        if (_authorization?.Check(method, Peer, PeerIdentity) is not { } denial)
        {
            return null;
        }

        RpcLog.CallRefused(Logger, Id, $"{method.FullName} denied to {PeerIdentity?.Name ?? Peer}: {denial}");
        return denial;
    }

    private void RefuseMismatchedCall(in FrameHeader header, RpcMethodInfo method, bool oneWay)
    {
        var reason = oneWay
            ? $"{method.FullName} is a {method.Kind} method; a one-way frame cannot call it."
            : $"{method.FullName} is one-way; call it with a one-way frame.";
        if (Interlocked.Increment(ref _mismatchedCalls) > MaxMismatchedCalls)
        {
            throw new ProtocolViolation($"The peer sent more than {MaxMismatchedCalls} calls whose frame kind does not match the method ({reason})");
        }

        RpcLog.CallRefused(Logger, Id, reason);
        if (!oneWay)
        {
            SendError(header.CallId, RpcStatusCode.Unimplemented, reason);
        }
    }
}
