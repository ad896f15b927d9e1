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

/// <summary>
/// One connection of the message protocol over an <see cref="RpcLink"/>. Symmetric: either side
/// can call (<see cref="IRpcChannel"/>) and either side can serve (when given dispatchers), which is
/// what server push will build on.
/// </summary>
internal sealed class MessageConnection : IRpcChannel, IRpcCapabilityTable, IAsyncDisposable, IWatchedConnection
{
    // A peer that keeps sending frames whose kind does not match the method (a one-way frame to a
    // two-way method, a request to a one-way one) has each refused; past this many it is aborted.
    private const int MaxMismatchedCalls = 16;

    private const int Open = 0;
    private const int Draining = 1;
    private const int Closed = 2;

    private static long s_nextId;

    // The connection whose reader is handling a batch of frames on this thread. Frames that reader
    // writes meanwhile (responses, errors, credit) are queued and sent together when the batch
    // ends: one system call for a whole burst of calls instead of one each.
    [ThreadStatic]
    private static MessageConnection? t_readerBatch;

    private readonly RpcLink _link;
    private readonly PipeWriter _output;
    private readonly RpcLimits _limits;
    private readonly IReadOnlyDictionary<ulong, IRpcDispatcher>? _dispatchers;
    private readonly TimeSpan? _defaultTimeout;
    private readonly Action<MessageConnection>? _onClosed;

    // The codec for calls this side makes (unless a scope overrides it) and the smallest payload
    // worth compressing. Responses use the codec of their request.
    private readonly RpcCompression _compression;
    private readonly int _compressionThreshold;

    // ---- Outbound frames -----------------------------------------------------------------------
    // Built frames waiting to be copied into the link, in order. _draining is 1 while one thread
    // (the drainer) moves them into the link and flushes; only the drainer touches _output.
    // _outboxBytes counts the memory outbound frames hold (FrameBuffer.HeldBytes), from the moment
    // they are queued until the flush that hands them to the link has completed, so bytes parked in
    // the link's pipe behind a peer that does not read still count. Writers wait on _room while it
    // is over MaxPendingBytes; the reader stops reading while _budget says so. The same bytes are
    // added to the server-wide _budget.
    private readonly System.Collections.Concurrent.ConcurrentQueue<FrameBuffer> _outbox = new();
    private readonly DeferredDrain _deferredDrain;
    // Server connections only (null on clients): the server-wide count, and the rule for when the
    // reader stops. A client's reader never stops: if both ends stopped reading while each had more
    // than its limit queued for the other (a burst of large calls), neither would ever resume.
    private readonly OutboundBudget? _budget;
    private int _draining;
    private long _outboxBytes;
    private readonly RoomSignal _room = new();

    // Server connections only: the time limits the server's watchdog checks. Null on clients.
    private readonly ConnectionTimeouts? _timeouts;

    // Calls refused because their frame kind did not match their method's kind.
    private int _mismatchedCalls;

    // ---- Outbound calls ------------------------------------------------------------------------
    // Calls this side made and has not had an answer for, by call id. An entry is added before the
    // request is written and removed by whichever of response / cancel / deadline / disconnect
    // comes first; that removal decides how the call ends.
    private readonly Dictionary<uint, PendingCall> _pending = new();
    private uint _lastCallId;

    // ---- Inbound calls -------------------------------------------------------------------------
    // Two-way calls the peer made that are still running, by the peer's call id, so a Cancel frame
    // can find them. One-way calls are not listed (they cannot be cancelled) but are counted.
    private readonly Dictionary<uint, ServerCall> _inbound = new();
    private int _inflight;

    // The highest call id the peer has used: a stream frame for a higher, never-used id is bogus,
    // while one for a lower id may just be late (the call ended while it was on the wire).
    private uint _highestInboundCallId;

    // ---- Capabilities --------------------------------------------------------------------------
    // Objects this side exported (callbacks passed as arguments or results), by export id, with the
    // number of references the peer holds. An entry is added when an object is first serialized
    // and removed when the peer releases every reference or the connection closes.
    private readonly Dictionary<uint, ExportEntry> _exports = new();
    private readonly Dictionary<object, uint> _exportIds = new(ReferenceEqualityComparer.Instance);
    private uint _lastExportId;

    // Objects the peer exported to this side, by the peer's export id; removed on release.
    private readonly Dictionary<uint, ImportChannel> _imports = new();

    // Open → Draining (this side stopped accepting new inbound calls) → Closed.
    private int _state;

    // Set when the peer sent GoAway: new outbound calls fail at once.
    private volatile bool _peerDraining;

    // Why the connection closed; set once, before pending calls are failed.
    private volatile RpcException? _closeReason;
    private readonly TaskCompletionSource _closed = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private readonly TaskCompletionSource _drained = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private Task? _reading;

    public MessageConnection(
        RpcLink link,
        RpcLimits limits,
        ILogger logger,
        IReadOnlyDictionary<ulong, IRpcDispatcher>? dispatchers,
        TimeSpan? defaultTimeout,
        Action<MessageConnection>? onClosed,
        RpcCompression compression = RpcCompression.None,
        int compressionThreshold = int.MaxValue,
        OutboundBudget? budget = null,
        ConnectionTimeouts? timeouts = null)
    {
        _budget = budget;
        _timeouts = timeouts;
        _compression = compression;
        _compressionThreshold = compressionThreshold;
        _link = link;
        _output = link.Output;
        _limits = limits;
        Logger = logger;
        _dispatchers = dispatchers;
        _defaultTimeout = defaultTimeout;
        _onClosed = onClosed;
        Id = Interlocked.Increment(ref s_nextId);
        _deferredDrain = new DeferredDrain(this);
        Peer = link.RemoteAddress;
    }

    public long Id { get; }

    public string Peer { get; }

    public ILogger Logger { get; }

    /// <summary>Completes when the connection has closed, for whatever reason.</summary>
    public Task Completion => _closed.Task;

    /// <summary>Why the connection closed, or null while it is open.</summary>
    public RpcException? CloseReason => _closeReason;

    /// <summary>Inbound calls still running.</summary>
    public int InflightCalls => Volatile.Read(ref _inflight);

    /// <summary>Outbound bytes this connection holds now (see <see cref="FrameBuffer.HeldBytes"/>).</summary>
    public long PendingOutboundBytes => Volatile.Read(ref _outboxBytes);

    public void Start()
    {
        RpcLog.ConnectionOpened(Logger, Id, Peer);
        _reading = ReadLoopAsync();
    }

    /// <summary>Sends the client's hello (a <see cref="FrameKind.Ping"/>), which opens its session within the server's handshake timeout.</summary>
    public void SendHello() => SendControl(FrameKind.Ping, callId: 0);

    private void SendControl(FrameKind kind, uint callId)
    {
        var frame = FrameBuffer.Rent();
        frame.WriteHeader(new FrameHeader(kind, 0, 0, callId, 0, 0, 0));
        var write = WriteFrameAsync(frame);
        if (!write.IsCompletedSuccessfully)
        {
            _ = IgnoreFailure(write);
        }
    }

    /// <summary>Closes the connection when one of its time limits passed (called by the server's watchdog).</summary>
    public void CheckTimeouts(long now)
    {
        if (_timeouts is null || Volatile.Read(ref _state) == Closed)
        {
            return;
        }

        bool busy;
        lock (_pending)
        {
            busy = _pending.Count > 0;
        }

        busy |= Volatile.Read(ref _inflight) > 0;
        if (_timeouts.Expired(now, busy) is { } reason)
        {
            RpcLog.ConnectionTimedOut(Logger, Id, Peer, reason);
            _ = CloseAfterTellingPeerAsync(RpcStatusCode.Disconnected, reason);
        }
    }

    /// <summary>Sends an <see cref="FrameKind.Abort"/> with <paramref name="reason"/> (waiting briefly), then closes.</summary>
    internal async Task CloseAfterTellingPeerAsync(RpcStatusCode code, string reason)
    {
        try
        {
            await SendAbortAsync(code, reason).ConfigureAwait(false);
        }
        finally
        {
            await CloseAsync(new RpcException(RpcStatusCode.Disconnected, reason)).ConfigureAwait(false);
        }
    }

    // ============================================================================================
    // Calling
    // ============================================================================================

    public ValueTask<TResponse> InvokeAsync<TRequest, TResponse>(RpcMethod<TRequest, TResponse> method, TRequest request, CancellationToken cancellationToken) =>
        InvokeAsync(method, request, cancellationToken, exportTarget: null);

    /// <summary>Makes a two-way call to a service the peer serves, or to an object it exported when <paramref name="exportTarget"/> is set.</summary>
    internal ValueTask<TResponse> InvokeAsync<TRequest, TResponse>(RpcMethod<TRequest, TResponse> method, TRequest request, CancellationToken cancellationToken, uint? exportTarget)
    {
        if (cancellationToken.IsCancellationRequested)
        {
            return ValueTask.FromCanceled<TResponse>(cancellationToken);
        }

        if (RefuseNewCall() is { } refused)
        {
            return ValueTask.FromException<TResponse>(refused);
        }

        TimeSpan? timeout = null;
        if ((RpcDeadline.Current ?? (_defaultTimeout is { } t ? DateTime.UtcNow + t : null)) is { } deadline)
        {
            var remaining = deadline - DateTime.UtcNow;
            if (remaining <= TimeSpan.Zero)
            {
                return ValueTask.FromException<TResponse>(new RpcException(RpcStatusCode.DeadlineExceeded, $"The deadline of {method.FullName} passed before it was sent."));
            }

            timeout = remaining;
        }

        var frame = FrameBuffer.Rent();
        if (BuildPayload(frame, request, method.RequestFormatter, "request", OutboundCodec) is { } invalid)
        {
            FrameBuffer.Return(frame);
            return ValueTask.FromException<TResponse>(invalid);
        }

        var call = PendingCall<TResponse>.Rent(this, method, method.ResponseFormatter);
        call.Activity = RpcTelemetry.StartClient(method);
        call.StartTimestamp = RpcTelemetry.IsMeasuring ? Stopwatch.GetTimestamp() : 0;
        var result = call.Task;
        if (!TryAddPending(call))
        {
            FrameBuffer.Return(frame);
            call.Fail(Disconnected(), RpcStatusCode.Disconnected);
            return result;
        }

        var micros = timeout is { } left ? Math.Max(1, (long)left.TotalMicroseconds) : 0;
        frame.WriteHeader(RequestHeader(FrameKind.Request, frame.PayloadLength, call.CallId, method, micros, exportTarget));
        call.Arm(cancellationToken, timeout);
        var write = WriteFrameAsync(frame);
        if (!write.IsCompletedSuccessfully)
        {
            _ = FailIfWriteFailsAsync(write, call);
        }

        return result;
    }

    public ValueTask SendAsync<TRequest>(RpcMethod<TRequest, RpcVoid> method, TRequest request) =>
        SendAsync(method, request, exportTarget: null);

    /// <summary>Sends a one-way call to a service, or to an object the peer exported.</summary>
    internal ValueTask SendAsync<TRequest>(RpcMethod<TRequest, RpcVoid> method, TRequest request, uint? exportTarget)
    {
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

        frame.WriteHeader(RequestHeader(FrameKind.OneWay, frame.PayloadLength, 0, method, 0, exportTarget));
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

    // ============================================================================================
    // Capabilities
    // ============================================================================================

    public RpcCapabilityReference Export<TService>(TService implementation)
        where TService : class
    {
        // A proxy for one of the peer's own exports on this connection goes home as that id.
        if (implementation is IRpcProxy { Channel: ImportChannel imported } && imported.Owner == this && !imported.IsReleased)
        {
            return new RpcCapabilityReference(imported.ExportId, ReceiverHosted: true);
        }

        lock (_exports)
        {
            if (_exportIds.TryGetValue(implementation, out var existing))
            {
                _exports[existing].References++;
                return new RpcCapabilityReference(existing, ReceiverHosted: false);
            }

            var dispatcher = RpcServiceRegistry.CreateDispatcher(implementation);
            uint id;
            do
            {
                id = ++_lastExportId;
            }
            while (id == 0 || _exports.ContainsKey(id));

            _exports.Add(id, new ExportEntry(dispatcher, implementation) { References = 1 });
            _exportIds.Add(implementation, id);
            return new RpcCapabilityReference(id, ReceiverHosted: false);
        }
    }

    public TService Import<TService>(RpcCapabilityReference reference)
        where TService : class
    {
        if (reference.ReceiverHosted)
        {
            // One of our own objects coming home: hand back the object itself.
            lock (_exports)
            {
                if (_exports.TryGetValue(reference.Id, out var export) && export.Implementation is TService own)
                {
                    return own;
                }
            }

            throw new RpcException(RpcStatusCode.InvalidPayload, $"The peer referred to object {reference.Id} of ours, which is not an exported {typeof(TService).Name}.");
        }

        ImportChannel? channel;
        lock (_imports)
        {
            if (!_imports.TryGetValue(reference.Id, out channel))
            {
                channel = new ImportChannel(this, reference.Id);
                _imports.Add(reference.Id, channel);
            }

            channel.References++;
        }

        return RpcServiceRegistry.CreateProxy<TService>(channel);
    }

    internal void ReleaseImport(ImportChannel channel)
    {
        long references;
        lock (_imports)
        {
            if (!_imports.Remove(channel.ExportId, out var current) || !ReferenceEquals(current, channel))
            {
                return;
            }

            references = channel.References;
        }

        if (Volatile.Read(ref _state) == Closed)
        {
            return;
        }

        var frame = FrameBuffer.Rent();
        frame.WriteHeader(new FrameHeader(FrameKind.Release, 0, 0, channel.ExportId, (uint)Math.Min(references, uint.MaxValue), 0, 0));
        _ = IgnoreFailure(WriteFrameAsync(frame));
    }

    private void HandleRelease(in FrameHeader header)
    {
        lock (_exports)
        {
            if (!_exports.TryGetValue(header.CallId, out var export))
            {
                throw new ProtocolViolation($"The peer released object {header.CallId}, which this side never exported to it (or it was already released).");
            }

            export.References -= header.MethodId;
            if (export.References < 0 || header.MethodId == 0)
            {
                throw new ProtocolViolation($"The peer released object {header.CallId} more times than it was given it.");
            }

            if (export.References == 0)
            {
                _exports.Remove(header.CallId);
                _exportIds.Remove(export.Implementation);
            }
        }
    }

    private IRpcDispatcher? FindExport(ulong exportId)
    {
        lock (_exports)
        {
            return exportId <= uint.MaxValue && _exports.TryGetValue((uint)exportId, out var export) ? export.Dispatcher : null;
        }
    }

    /// <summary>An exported object and the references the peer holds to it.</summary>
    private sealed class ExportEntry(IRpcDispatcher dispatcher, object implementation)
    {
        public IRpcDispatcher Dispatcher { get; } = dispatcher;

        public object Implementation { get; } = implementation;

        public long References { get; set; }
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
            var call = StartStreamingCall(method, request, items, cancellationToken);
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
        var call = StartStreamingCall(method, request, items, cancellationToken);
        await foreach (var item in call.Responses.WithCancellation(cancellationToken).ConfigureAwait(false))
        {
            yield return item;
        }
    }

    private StreamingCall<TRequestItem, TResponse> StartStreamingCall<TRequest, TRequestItem, TResponse>(
        RpcStreamingMethod<TRequest, TRequestItem, TResponse> method,
        TRequest request,
        IAsyncEnumerable<TRequestItem>? items,
        CancellationToken cancellationToken)
    {
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
        var call = new StreamingCall<TRequestItem, TResponse>(this, method, method.ResponseFormatter, codec);
        if (!TryAddPending(call))
        {
            FrameBuffer.Return(frame);
            var closed = Disconnected();
            call.Fail(closed, RpcStatusCode.Disconnected);
            throw closed;
        }

        call.Open(_limits.StreamWindowBytes);
        var micros = timeout is { } left ? Math.Max(1, (long)left.TotalMicroseconds) : 0;
        frame.WriteHeader(new FrameHeader(FrameKind.Request, (byte)((byte)codec << 3), frame.PayloadLength, call.CallId, method.Id, method.Service.Id, micros));
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

    internal bool TryRemovePending(PendingCall call)
    {
        lock (_pending)
        {
            return _pending.TryGetValue(call.CallId, out var current) && ReferenceEquals(current, call) && _pending.Remove(call.CallId);
        }
    }

    internal void SendCancel(uint callId)
    {
        if (Volatile.Read(ref _state) == Closed)
        {
            return;
        }

        var frame = FrameBuffer.Rent();
        frame.WriteHeader(new FrameHeader(FrameKind.Cancel, 0, 0, callId, 0, 0, 0));
        _ = IgnoreFailure(WriteFrameAsync(frame));
    }

    /// <summary>The codec for a call made now: the scope's choice, else the connection's.</summary>
    private RpcCompression OutboundCodec => RpcCompressionScope.Current ?? _compression;

    private RpcException? RefuseNewCall()
    {
        if (_closeReason is { } reason)
        {
            return new RpcException(RpcStatusCode.Disconnected, reason.Message);
        }

        if (_peerDraining)
        {
            return new RpcException(RpcStatusCode.Disconnected, "The peer is shutting down and accepts no new calls; open a new connection.");
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

        if (frame.PayloadLength > _limits.MaxFrameBytes)
        {
            return new RpcException(RpcStatusCode.InvalidPayload, $"The {what} is {frame.PayloadLength} bytes, over the limit of {_limits.MaxFrameBytes} bytes (RpcLimits.MaxFrameBytes).");
        }

        frame.Compress(codec, _compressionThreshold);
        return null;
    }

    private bool TryAddPending(PendingCall call)
    {
        lock (_pending)
        {
            if (_closeReason is not null)
            {
                return false;
            }

            // Call ids wrap after 2^32 calls; skip zero and any id still in flight.
            do
            {
                call.CallId = ++_lastCallId;
            }
            while (call.CallId == 0 || _pending.ContainsKey(call.CallId));

            _pending.Add(call.CallId, call);
            return true;
        }
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

    private static async Task IgnoreFailure(ValueTask write)
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

    // ============================================================================================
    // Serving
    // ============================================================================================

    internal RpcStatusCode SendResponse<T>(uint callId, T value, IRpcFormatter<T> formatter, RpcCompression codec)
    {
        var frame = FrameBuffer.Rent();
        if (BuildPayload(frame, value, formatter, "response", codec) is { } invalid)
        {
            FrameBuffer.Return(frame);
            SendError(callId, invalid.StatusCode, invalid.Message);
            return invalid.StatusCode;
        }

        frame.WriteHeader(new FrameHeader(FrameKind.Response, 0, frame.PayloadLength, callId, 0, 0, 0));
        var write = WriteFrameAsync(frame);
        if (!write.IsCompletedSuccessfully)
        {
            _ = IgnoreFailure(write);
        }

        return RpcStatusCode.Ok;
    }

    internal void SendError(uint callId, RpcStatusCode code, string message)
    {
        var frame = FrameBuffer.Rent();
        ErrorPayload.Write(frame, code, message);
        frame.WriteHeader(new FrameHeader(FrameKind.Error, 0, frame.PayloadLength, callId, 0, 0, 0));
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
            lock (_inbound)
            {
                if (_inbound.TryGetValue(call.CallId, out var current) && ReferenceEquals(current, call))
                {
                    _inbound.Remove(call.CallId);
                }
            }
        }

        if (Interlocked.Decrement(ref _inflight) == 0 && Volatile.Read(ref _state) != Open)
        {
            _drained.TrySetResult();
        }
    }

    private void HandleCall(in FrameHeader header, in ReadOnlySequence<byte> payload)
    {
        var oneWay = header.Kind == FrameKind.OneWay;
        if ((header.Flags & (byte)FrameFlags.ToExport) != 0)
        {
            if (FindExport(header.ServiceId) is not { } exported)
            {
                if (!oneWay)
                {
                    SendError(header.CallId, RpcStatusCode.Disconnected, $"Object {header.ServiceId} was released or never exported; it cannot be called.");
                }

                return;
            }

            Dispatch(header, payload, exported, oneWay);
            return;
        }

        if (_dispatchers is null || !_dispatchers.TryGetValue(header.ServiceId, out var dispatcher))
        {
            MessageLog.UnknownService(Logger, Id, header.CallId, header.ServiceId);
            if (!oneWay)
            {
                SendError(header.CallId, RpcStatusCode.Unimplemented, $"No service with id 0x{header.ServiceId:x16} is served here.");
            }

            return;
        }

        Dispatch(header, payload, dispatcher, oneWay);
    }

    private void Dispatch(in FrameHeader header, in ReadOnlySequence<byte> payload, IRpcDispatcher dispatcher, bool oneWay)
    {
        var method = dispatcher.FindMethod(header.MethodId);
        if (method is null)
        {
            if (!oneWay)
            {
                SendError(header.CallId, RpcStatusCode.Unimplemented, $"{dispatcher.Service.Name} has no method with id 0x{header.MethodId:x8}.");
            }

            return;
        }

        if (oneWay != (method.Kind == RpcMethodKind.OneWay))
        {
            RefuseMismatchedCall(header, method, oneWay);
            return;
        }

        if (Volatile.Read(ref _state) != Open)
        {
            if (!oneWay)
            {
                SendError(header.CallId, RpcStatusCode.Disconnected, "The server is shutting down and accepts no new calls.");
            }

            return;
        }

        if (Volatile.Read(ref _inflight) >= _limits.MaxConcurrentCalls)
        {
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
        var call = ServerCall.Rent(this, method, header.CallId, oneWay, header.DeadlineMicroseconds, _limits, codec);
        if (!oneWay)
        {
            lock (_inbound)
            {
                _highestInboundCallId = Math.Max(_highestInboundCallId, header.CallId);
                if (!_inbound.TryAdd(header.CallId, call))
                {
                    throw new ProtocolViolation($"The peer reused call id {header.CallId} while that call is still running.");
                }
            }
        }

        Interlocked.Increment(ref _inflight);
        ValueTask completion;
        // Setting the context allocates, so it is not restored afterwards: the next call on this
        // reader overwrites it, and nothing else the reader runs reads it (completions of our own
        // calls resume with their callers' context, and stream frames run no user code).
        RpcCallContext.SetCurrent(call);
        try
        {
            completion = dispatcher.DispatchAsync(call, payload);
        }
        catch (Exception ex)
        {
            // A payload that does not decode, or an implementation that threw before returning a task.
            completion = default;
            call.Fail(ex);
        }

        if (completion.IsCompletedSuccessfully)
        {
            call.Finish();
        }
        else
        {
            _ = call.FinishAsync(completion);
        }
    }

    /// <summary>
    /// Refuses a call whose frame kind does not fit its method: a one-way frame cannot run a two-way
    /// or streaming method (nobody could cancel it, and a stream would hold a call slot for good),
    /// and a request cannot run a one-way method. The caller gets an error when it can take one; a
    /// peer that keeps doing it is aborted.
    /// </summary>
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

    // ============================================================================================
    // Reading
    // ============================================================================================

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
                var paused = false;
                t_readerBatch = this;
                try
                {
                    while (true)
                    {
                        // Backpressure: while the peer does not take what we owe it, stop parsing
                        // what it sends (mid-batch: one read can hold hundreds of calls), so it
                        // cannot make us queue more answers (see OutboundBudget).
                        if (framesCompleted && ReaderMustPause)
                        {
                            paused = true;
                            _timeouts?.OnRead(framesCompleted: true, partialFrameBytes: 0, declaredFrameBytes: 0);
                            break;
                        }

                        var status = FrameParser.TryParse(buffer, _limits.MaxFrameBytes, out var header, out var payload, out var next, out var error);
                        if (status == FrameParseStatus.Incomplete)
                        {
                            _timeouts?.OnRead(framesCompleted, buffer.Length, buffer.IsEmpty ? 0 : FrameParser.DeclaredFrameBytes(buffer));
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

                    // Paused with whole frames left: mark nothing examined, so the next read
                    // returns them at once instead of waiting for more bytes.
                    input.AdvanceTo(consumed, paused ? consumed : buffer.End);
                }

                // Answers to the last calls before the peer stopped sending still go out: a peer
                // that half-closed its side may be reading them.
                FlushReaderBatch();
                if (reason is not null)
                {
                    break;
                }

                if (paused || ReaderMustPause)
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
        if (ReaderMustPause)
        {
            RpcLog.ReaderPaused(Logger, Id, Peer, Volatile.Read(ref _outboxBytes));
        }

        return _room.WaitWhileAsync(() => ReaderMustPause && _closeReason is null);
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
        switch (header.Kind)
        {
            case FrameKind.Request:
            case FrameKind.OneWay:
                HandleCall(header, payload);
                break;
            case FrameKind.Response:
                HandleResponse(header, payload);
                break;
            case FrameKind.Error:
                HandleError(header, payload);
                break;
            case FrameKind.Cancel:
                HandleCancel(header);
                break;
            case FrameKind.GoAway:
                _peerDraining = true;
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
                SendControl(FrameKind.Pong, header.CallId);
                break;
            case FrameKind.Pong:
                break;
        }
    }

    private void HandleStreamFrame(in FrameHeader header, in ReadOnlySequence<byte> payload)
    {
        var error = header.Kind == FrameKind.StreamEnd && header.PayloadLength > 0 ? ErrorPayload.Read(payload) : null;
        if (((FrameFlags)header.Flags & FrameFlags.FromCaller) != 0)
        {
            // The peer's own call, which this side serves. The action happens under the lock so the
            // call cannot be finished and reused under our feet (none of it runs user code).
            lock (_inbound)
            {
                _inbound.TryGetValue(header.CallId, out var call);
                if (call is null && header.CallId > _highestInboundCallId)
                {
                    throw new ProtocolViolation($"The peer sent a stream frame for call {header.CallId}, which it never made.");
                }

                switch (header.Kind)
                {
                    case FrameKind.StreamItem:
                        call?.OnStreamItem(payload);
                        break;
                    case FrameKind.StreamEnd:
                        call?.OnStreamEnd(error);
                        break;
                    default:
                        call?.OnCredit(header.MethodId);
                        break;
                }
            }

            return;
        }

        // A call this side made. A stream end finishes the call, so it leaves the table.
        PendingCall? pending;
        lock (_pending)
        {
            _pending.TryGetValue(header.CallId, out pending);
            if (pending is null && header.CallId > _lastCallId)
            {
                throw new ProtocolViolation($"The peer sent a stream frame for call {header.CallId}, which this side never made.");
            }

            if (pending is not null && header.Kind == FrameKind.StreamEnd && pending.EndsWithStream)
            {
                _pending.Remove(header.CallId);
            }
        }

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

    private void HandleResponse(in FrameHeader header, in ReadOnlySequence<byte> payload)
    {
        // An unknown id is a call this side already gave up on (cancelled or timed out): the
        // answer crossed the Cancel frame on the wire.
        if (TakePending(header.CallId) is { } call)
        {
            call.CompleteWithPayload(payload);
        }
    }

    private void HandleError(in FrameHeader header, in ReadOnlySequence<byte> payload)
    {
        if (TakePending(header.CallId) is { } call)
        {
            var error = ErrorPayload.Read(payload);
            call.Fail(error, error.StatusCode);
        }
    }

    private void HandleCancel(in FrameHeader header)
    {
        (CancellationTokenSource? Token, IStreamReceiver? RequestStream) fire = default;
        lock (_inbound)
        {
            if (_inbound.TryGetValue(header.CallId, out var call))
            {
                fire = call.MarkCancelled();
            }
        }

        ServerCall.Fire(fire.Token, fire.RequestStream, reason: null);
    }

    private PendingCall? TakePending(uint callId)
    {
        lock (_pending)
        {
            return _pending.Remove(callId, out var call) ? call : null;
        }
    }

    // ============================================================================================
    // Writing
    // ============================================================================================

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

        if (_pending.Count + Volatile.Read(ref _inflight) > 1 && queued <= _limits.MaxPendingBytes)
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
                _output.Write(frame.WrittenSpan);
            }
            finally
            {
                FrameBuffer.Return(frame);
            }
        }

        return moved;
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

    // ============================================================================================
    // Shutdown
    // ============================================================================================

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
        while (_outbox.TryDequeue(out var dropped))
        {
            Unhold(dropped.HeldBytes);
            FrameBuffer.Return(dropped);
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
