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

/// <summary>Calls this side makes: two-way, one-way and streaming, and the pending-call table.</summary>
internal sealed partial class MessageConnection
{
    // A lone caller's spin that gave up before its answer came: when it began (0: none) and the
    // call, written by the caller and taken by the reader (see TakeAnswered). A race between two
    // such spins only loses one adaptation.
    private long _unansweredSpinStart;
    private uint _unansweredSpinCall;

    public ValueTask<TResponse> InvokeAsync<TRequest, TResponse>(RpcMethod<TRequest, TResponse> method, TRequest request, CancellationToken cancellationToken) =>
        ClientInterceptors is { } interceptors
            ? new RpcClientCallContext(method, cancellationToken, interceptors, this).InvokeFrom<TRequest, TResponse>(0, request)
            : InvokeAsync(method, request, cancellationToken, exportTarget: null);

    /// <summary>Makes a two-way call with the headers of the current <see cref="RpcMetadataScope"/>, which takes its trailers.</summary>
    internal ValueTask<TResponse> InvokeAsync<TRequest, TResponse>(RpcMethod<TRequest, TResponse> method, TRequest request, CancellationToken cancellationToken, uint? exportTarget)
    {
        var scope = RpcMetadataScope.Current;
        return InvokeAsync(method, request, cancellationToken, exportTarget, scope?.RequestHeaders, scope);
    }

    /// <summary>
    /// Makes a two-way call to a service the peer serves, or to an object it exported when
    /// <paramref name="exportTarget"/> is set, sending <paramref name="headers"/>; the trailers that come
    /// back go to <paramref name="trailers"/> before the call completes.
    /// </summary>
    internal ValueTask<TResponse> InvokeAsync<TRequest, TResponse>(RpcMethod<TRequest, TResponse> method, TRequest request, CancellationToken cancellationToken, uint? exportTarget, RpcMetadata? headers, IRpcTrailerSink? trailers)
    {
        using var sending = _lifecycle.BeginSending();
        if (cancellationToken.IsCancellationRequested)
        {
            return ValueTask.FromCanceled<TResponse>(cancellationToken);
        }

        return StartCall(method, request, cancellationToken, exportTarget, headers, trailers, out var failed) is { } call
            ? call.Task
            : ValueTask.FromException<TResponse>(failed!);
    }

    /// <summary>
    /// <see cref="IRpcChannel.InvokeVoidAsync{TRequest}"/>: a two-way call with no result, awaited through the
    /// pending call itself, so that a caller who awaits it allocates nothing (adapting the
    /// <see cref="ValueTask{TResult}"/> of <see cref="RpcVoid"/> would take a <see cref="Task"/> a call).
    /// </summary>
    public ValueTask InvokeVoidAsync<TRequest>(RpcMethod<TRequest, RpcVoid> method, TRequest request, CancellationToken cancellationToken)
    {
        if (ClientInterceptors is not null)
        {
            return RpcTasks.AsValueTask(InvokeAsync(method, request, cancellationToken));
        }

        if (cancellationToken.IsCancellationRequested)
        {
            return ValueTask.FromCanceled(cancellationToken);
        }

        var scope = RpcMetadataScope.Current;
        return StartCall(method, request, cancellationToken, exportTarget: null, scope?.RequestHeaders, scope, out var failed) is { } call
            ? call.VoidTask
            : ValueTask.FromException(failed!);
    }

    /// <summary>
    /// Sends a two-way call and returns its pending entry, whose task completes with the answer;
    /// null, with why in <paramref name="failed"/>, when the call could not be sent (a pending entry
    /// that was created is then already failed and returned).
    /// </summary>
    private PendingCall<TResponse>? StartCall<TRequest, TResponse>(RpcMethod<TRequest, TResponse> method, TRequest request, CancellationToken cancellationToken, uint? exportTarget, RpcMetadata? headers, IRpcTrailerSink? trailers, out Exception? failed)
    {
        failed = null;
        if (RefuseNewCall() is { } refused)
        {
            failed = refused;
            return null;
        }

        TimeSpan? timeout = null;
        if ((RpcDeadline.Current ?? (_defaultTimeout is { } t ? DateTime.UtcNow + t : null)) is { } deadline)
        {
            var remaining = deadline - DateTime.UtcNow;
            if (remaining <= TimeSpan.Zero)
            {
                failed = new RpcException(RpcStatusCode.DeadlineExceeded, $"The deadline of {method.FullName} passed before it was sent.");
                return null;
            }

            timeout = remaining;
        }

        var frame = FrameBuffer.Rent();
        if (BuildPayload(frame, request, method.RequestFormatter, "request", OutboundCodec) is { } invalid)
        {
            FrameBuffer.Return(frame);
            failed = invalid;
            return null;
        }

        var span = RpcTelemetry.StartClient(method, _peerTags.Outbound);
        var metadata = BuildHeaders(headers, span, out var refusedHeaders);
        if (refusedHeaders is not null)
        {
            FrameBuffer.Return(frame);
            RpcTelemetry.StopClient(method, 0, refusedHeaders.StatusCode, span);
            failed = refusedHeaders;
            return null;
        }

        frame.Leading = metadata;
        var call = PendingCall<TResponse>.Rent(this, method, method.ResponseFormatter);
        call.Activity = span;
        call.TrailerSink = trailers;
        call.StartTimestamp = RpcTelemetry.IsMeasuring ? Stopwatch.GetTimestamp() : 0;
        if (!_outboundCalls.TryAdd(call))
        {
            FrameBuffer.Return(frame);
            call.Fail(Disconnected(), RpcStatusCode.Disconnected);
            return call;
        }

        var micros = timeout is { } left ? Math.Max(1, (long)left.TotalMicroseconds) : 0;
        frame.WriteHeader(RequestHeader(FrameKind.Request, frame.PayloadLength, call.CallId, method, micros, exportTarget));
        WriteMetadataHeader(frame, call.CallId);
        call.Arm(cancellationToken, timeout);

        // A lone caller on a link with a call lane (shared memory): the request goes there, apart
        // from the byte stream, and the answer comes back there (the caller's spin polls it). Only
        // after the peer's hello: the peer must have read ours (from the stream) before any call.
        if (_handOffSpin.IsEnabled && _peerHelloReceived && frame.Leading is null && _outboundCalls.Count == 1 && _link.TrySendOnLane(frame.WrittenSpan))
        {
            FrameBuffer.Return(frame);
            SpinForAnswer(call.Task, call.CallId);
            return call;
        }

        var write = WriteFrameAsync(frame);
        if (!write.IsCompletedSuccessfully)
        {
            _ = FailIfWriteFailsAsync(write, call);
        }
        else if (_handOffSpin.IsEnabled)
        {
            SpinForAnswer(call.Task, call.CallId);
        }

        return call;
    }

    /// <summary>
    /// On a link whose answers come within microseconds (<see cref="RpcLink.HandOffSpin"/>), a lone
    /// caller spins (bounded, adaptive) for its answer before it returns the pending task, polling
    /// the link where it can (<see cref="RpcLink.BeginPolling"/>): an answer caught here is read,
    /// parsed and completed on the caller's own thread, with no continuation to schedule and no
    /// thread to wake. The reader runs here only up to handing calls and items on (it never runs
    /// user code), so this is as safe as the link's own receiving thread. With other calls in flight it does not spin: the caller's thread
    /// is worth more running the others' continuations.
    /// </summary>
    private void SpinForAnswer<TResponse>(ValueTask<TResponse> answer, uint callId)
    {
        if (answer.IsCompleted || _outboundCalls.Count > 1)
        {
            return;
        }

        // Polling: this thread moves the answer out of the link itself when the link lets it, so
        // the reader parses it here and the link's own receiving thread need not be woken.
        if (!PollUntil(_handOffSpin, answer, static answer => answer.IsCompleted, out var gaveUpAt) && gaveUpAt != 0)
        {
            // The reader tells the spin how late the answer came (see TakeAnswered).
            _unansweredSpinCall = callId;
            Volatile.Write(ref _unansweredSpinStart, gaveUpAt);
        }
    }

    /// <summary>
    /// Takes the pending call an answer (or error) is for, off the table; when the caller's spin for
    /// it had given up, tells the spin how late the answer came, so a near miss (the peer was asleep,
    /// not slow) does not shrink it (see <see cref="AdaptiveSpin.CameAfter"/>). Called by the reader.
    /// </summary>
    private PendingCall? TakeAnswered(uint callId)
    {
        if (Volatile.Read(ref _unansweredSpinStart) != 0)
        {
            var spinStarted = Interlocked.Exchange(ref _unansweredSpinStart, 0);
            if (spinStarted != 0 && _unansweredSpinCall == callId)
            {
                // With other calls outstanding by now, the caller's thread is worth more running
                // their continuations than spinning: count the answer as late, whatever it was.
                _handOffSpin.CameAfter(_outboundCalls.Count > 1 ? long.MaxValue : Stopwatch.GetTimestamp() - spinStarted);
            }
        }

        return _outboundCalls.Take(callId);
    }

    public ValueTask SendAsync<TRequest>(RpcMethod<TRequest, RpcVoid> method, TRequest request) =>
        ClientInterceptors is { } interceptors
            ? Sent(new RpcClientCallContext(method, default, interceptors, this).InvokeFrom<TRequest, RpcVoid>(0, request))
            : SendAsync(method, request, exportTarget: null);

    /// <summary>Sends a one-way call with the headers of the current <see cref="RpcMetadataScope"/>.</summary>
    internal ValueTask SendAsync<TRequest>(RpcMethod<TRequest, RpcVoid> method, TRequest request, uint? exportTarget) =>
        SendAsync(method, request, exportTarget, RpcMetadataScope.Current?.RequestHeaders);

    /// <summary>Sends a one-way call to a service, or to an object the peer exported, with <paramref name="headers"/>.</summary>
    internal ValueTask SendAsync<TRequest>(RpcMethod<TRequest, RpcVoid> method, TRequest request, uint? exportTarget, RpcMetadata? headers)
    {
        using var sending = _lifecycle.BeginSending();
        if (RefuseNewCall() is { } refused)
        {
            return ValueTask.FromException(refused);
        }

        var frame = FrameBuffer.Rent();
        if (BuildPayload(frame, request, method.RequestFormatter, "request", OutboundCodec) is { } invalid)
        {
            FrameBuffer.Return(frame);
            return ValueTask.FromException(invalid);
        }

        frame.Leading = BuildHeaders(headers, callSpan: null, out var refusedHeaders);
        if (refusedHeaders is not null)
        {
            FrameBuffer.Return(frame);
            return ValueTask.FromException(refusedHeaders);
        }

        frame.WriteHeader(RequestHeader(FrameKind.OneWay, frame.PayloadLength, 0, method, 0, exportTarget));
        WriteMetadataHeader(frame, callId: 0);
        return WriteFrameAsync(frame);
    }

    private FrameHeader RequestHeader(FrameKind kind, int payloadLength, uint callId, RpcMethodInfo method, long deadlineMicroseconds, uint? exportTarget)
    {
        // Tell the server which codec to answer in even when this request went raw (too small).
        var flags = (byte)((byte)OutboundCodec << 3);
        return exportTarget is { } export
            ? new FrameHeader(kind, (byte)(flags | (byte)FrameFlags.ToExport), payloadLength, callId, method.Id, export, deadlineMicroseconds)
            : new FrameHeader(kind, flags, payloadLength, callId, method.Id, method.Service.Id, deadlineMicroseconds);
    }


    public IAsyncEnumerable<TResponse> InvokeServerStreaming<TRequest, TResponse>(RpcStreamingMethod<TRequest, RpcVoid, TResponse> method, TRequest request, CancellationToken cancellationToken) =>
        StreamResponsesAsync<TRequest, RpcVoid, TResponse>(method, request, items: null, cancellationToken);

    public IAsyncEnumerable<TResponse> InvokeDuplexStreaming<TRequest, TRequestItem, TResponse>(RpcStreamingMethod<TRequest, TRequestItem, TResponse> method, TRequest request, IAsyncEnumerable<TRequestItem> items, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(items);
        return StreamResponsesAsync(method, request, items, cancellationToken);
    }

    public ValueTask<TResponse> InvokeClientStreamingAsync<TRequest, TRequestItem, TResponse>(RpcStreamingMethod<TRequest, TRequestItem, TResponse> method, TRequest request, IAsyncEnumerable<TRequestItem> items, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(items);
        try
        {
            var call = StartInterceptedStreamingCall(method, request, items, cancellationToken);
            return new ValueTask<TResponse>(call.Response);
        }
        catch (Exception ex) when (ex is RpcException or OperationCanceledException)
        {
            return ValueTask.FromException<TResponse>(ex);
        }
    }

    private async IAsyncEnumerable<TResponse> StreamResponsesAsync<TRequest, TRequestItem, TResponse>(
        RpcStreamingMethod<TRequest, TRequestItem, TResponse> method,
        TRequest request,
        IAsyncEnumerable<TRequestItem>? items,
        [System.Runtime.CompilerServices.EnumeratorCancellation] CancellationToken cancellationToken)
    {
        // The call starts when enumeration starts, like any lazy sequence.
        var call = StartInterceptedStreamingCall(method, request, items, cancellationToken);
        await foreach (var item in call.Responses.WithCancellation(cancellationToken).ConfigureAwait(false))
        {
            yield return item;
        }
    }

    /// <summary>
    /// Starts a streaming call; <paramref name="intercepted"/> (when interceptors are registered) has
    /// already told them it starts, supplies the headers, takes the trailers and hears how it ends.
    /// </summary>
    private StreamingCall<TRequestItem, TResponse> StartStreamingCall<TRequest, TRequestItem, TResponse>(
        RpcStreamingMethod<TRequest, TRequestItem, TResponse> method,
        TRequest request,
        IAsyncEnumerable<TRequestItem>? items,
        CancellationToken cancellationToken,
        RpcClientCallContext? intercepted)
    {
        using var sending = _lifecycle.BeginSending();
        cancellationToken.ThrowIfCancellationRequested();
        if (RefuseNewCall() is { } refused)
        {
            throw refused;
        }

        TimeSpan? timeout = null;
        if ((RpcDeadline.Current ?? (_defaultTimeout is { } t ? DateTime.UtcNow + t : null)) is { } deadline)
        {
            timeout = deadline - DateTime.UtcNow;
            if (timeout <= TimeSpan.Zero)
            {
                throw new RpcException(RpcStatusCode.DeadlineExceeded, $"The deadline of {method.FullName} passed before it was sent.");
            }
        }

        var codec = OutboundCodec;
        var frame = BuildFrame(request, method.RequestFormatter, "request", codec);
        var span = RpcTelemetry.StartClient(method, _peerTags.Outbound);
        var scope = RpcMetadataScope.Current;
        frame.Leading = BuildHeaders(intercepted is null ? scope?.RequestHeaders : intercepted.HeadersToSend, span, out var refusedHeaders);
        if (refusedHeaders is not null)
        {
            FrameBuffer.Return(frame);
            RpcTelemetry.StopClient(method, 0, refusedHeaders.StatusCode, span);
            throw refusedHeaders;
        }

        var call = new StreamingCall<TRequestItem, TResponse>(this, method, method.ResponseFormatter, codec, span)
        {
            TrailerSink = intercepted ?? (IRpcTrailerSink?)scope,
            Observer = intercepted,
        };
        if (!_outboundCalls.TryAdd(call))
        {
            FrameBuffer.Return(frame);
            var closed = Disconnected();
            call.Fail(closed, RpcStatusCode.Disconnected);
            throw closed;
        }

        call.Open(_limits.StreamWindowBytes);
        var micros = timeout is { } left ? Math.Max(1, (long)left.TotalMicroseconds) : 0;
        frame.WriteHeader(new FrameHeader(FrameKind.Request, (byte)((byte)codec << 3), frame.PayloadLength, call.CallId, method.Id, method.Service.Id, micros));
        WriteMetadataHeader(frame, call.CallId);
        call.Arm(cancellationToken, timeout);
        var write = WriteFrameAsync(frame);
        if (!write.IsCompletedSuccessfully)
        {
            _ = FailIfWriteFailsAsync(write, call);
        }

        call.StartReceiving();
        if (items is not null)
        {
            _ = call.SendRequestsAsync(items, method.RequestItemFormatter);
        }

        return call;
    }

    /// <summary>Takes <paramref name="call"/> out of the outbound table (it was cancelled, timed out or its write failed); true when this removed it.</summary>
    internal bool TryRemovePending(PendingCall call) => _outboundCalls.TryRemove(call);

    internal void SendCancel(uint callId)
    {
        if (_lifecycle.IsClosed)
        {
            return;
        }

        var frame = FrameBuffer.Rent();
        frame.WriteHeader(new FrameHeader(FrameKind.Cancel, 0, 0, callId, 0, 0, 0));
        _ = IgnoreFailure(WriteFrameAsync(frame));
    }

    /// <summary>
    /// The <see cref="FrameKind.Metadata"/> frame for a call's headers (the caller's, then the trace
    /// context of <paramref name="callSpan"/>), its header slot still to fill; null when there are none,
    /// the common case, which costs neither a frame nor an allocation.
    /// </summary>
    private FrameBuffer? BuildHeaders(RpcMetadata? headers, Activity? callSpan, out RpcException? refused) =>
        BuildMetadata(headers, RpcTelemetry.InjectTraceContext(callSpan), "request headers", out refused);

    /// <summary>
    /// Encodes metadata for a <see cref="FrameKind.Metadata"/> frame; null when there are no entries.
    /// Over <see cref="RpcLimits.MaxMetadataEntries"/> or <see cref="RpcLimits.MaxMetadataBytes"/> it
    /// returns null and says why in <paramref name="refused"/>: the peer would abort the connection.
    /// </summary>
    internal FrameBuffer? BuildMetadata(RpcMetadata? first, RpcMetadata? second, string what, out RpcException? refused)
    {
        refused = null;
        if ((first?.Count ?? 0) + (second?.Count ?? 0) == 0)
        {
            return null;
        }

        var frame = FrameBuffer.Rent();
        var error = MetadataPayload.Write(frame, first, second, _limits, what);
        if (error is null && frame.PayloadLength > _limits.MaxMetadataBytes)
        {
            error = $"The {what} take {frame.PayloadLength} bytes, over the limit of {_limits.MaxMetadataBytes} bytes (RpcLimits.MaxMetadataBytes).";
        }

        if (error is not null)
        {
            FrameBuffer.Return(frame);
            refused = new RpcException(RpcStatusCode.InvalidPayload, error);
            return null;
        }

        return frame;
    }

    /// <summary>Fills the header of the metadata frame leading <paramref name="frame"/>, if any, now that the call id is known.</summary>
    internal static void WriteMetadataHeader(FrameBuffer frame, uint callId) =>
        frame.Leading?.WriteHeader(new FrameHeader(FrameKind.Metadata, 0, frame.Leading.PayloadLength, callId, 0, 0, 0));

    /// <summary>The codec for a call made now: the scope's choice, else the connection's.</summary>
    private RpcCompression OutboundCodec => RpcCompressionScope.Current ?? _compression;

    private RpcException? RefuseNewCall()
    {
        // Nothing was sent, so these refusals are marked NotProcessed: a balancer may send the call elsewhere.
        if (_closeReason is { } reason)
        {
            return RpcException.ForNotProcessed(RpcStatusCode.Disconnected, reason.Message, "closed");
        }

        if (_lifecycle.PeerDraining)
        {
            return RpcException.ForNotProcessed(RpcStatusCode.Disconnected, "The peer is shutting down and accepts no new calls; open a new connection.", "draining");
        }

        return null;
    }

    private RpcException? BuildPayload<T>(FrameBuffer frame, T value, IRpcFormatter<T> formatter, string what, RpcCompression codec)
    {
        try
        {
            using var capabilities = RpcCapabilityContext.Enter(this);
            RpcSerializer.Serialize(frame, value, formatter);
        }
        catch (Exception ex) when (ex is not OutOfMemoryException)
        {
            return new RpcException(RpcStatusCode.InvalidPayload, $"The {what} could not be serialized: {ex.Message}", ex);
        }

        return FinishPayload(frame, what, codec);
    }

    /// <summary>Checks a payload written into <paramref name="frame"/> against both sides' frame limits, then compresses it with <paramref name="codec"/> when that pays; returns the error for a payload over a limit.</summary>
    internal RpcException? FinishPayload(FrameBuffer frame, string what, RpcCompression codec)
    {
        if (frame.PayloadLength > _limits.MaxFrameBytes)
        {
            return new RpcException(RpcStatusCode.InvalidPayload, $"The {what} is {frame.PayloadLength} bytes, over the limit of {_limits.MaxFrameBytes} bytes (RpcLimits.MaxFrameBytes).");
        }

        if (frame.PayloadLength > _peerMaxFrameBytes)
        {
            return new RpcException(RpcStatusCode.InvalidPayload, $"The {what} is {frame.PayloadLength} bytes, over the peer's limit of {_peerMaxFrameBytes} bytes (its RpcLimits.MaxFrameBytes, from its hello).");
        }

        frame.Compress(codec, _compressionThreshold);
        return null;
    }

    private async Task FailIfWriteFailsAsync(ValueTask write, PendingCall call)
    {
        try
        {
            await write.ConfigureAwait(false);
        }
        catch (RpcException ex)
        {
            if (TryRemovePending(call))
            {
                call.Fail(ex, ex.StatusCode);
            }
        }
    }

    internal static async Task IgnoreFailure(ValueTask write)
    {
        try
        {
            await write.ConfigureAwait(false);
        }
        catch (RpcException)
        {
            // The connection is closing; the frame no longer matters.
        }
    }
}
