using System.Buffers;
using System.Diagnostics;
using RpcGen.Logging;
using RpcGen.Serialization;
using RpcGen.Telemetry;

namespace RpcGen.Transport.Message;

/// <summary>
/// One inbound call on a <see cref="MessageConnection"/>. It is the <see cref="RpcServerCall"/> the
/// generated dispatcher completes and the <see cref="RpcCallContext"/> the implementation sees.
/// </summary>
internal sealed partial class ServerCall : RpcServerCall, IThreadPoolWorkItem
{
    // Calls are pooled: a server allocates no call object in steady state. A call is recycled
    // only after it left the connection's inbound table (under its lock), and every action the
    // reader takes on a call from that table happens under the same lock, so a late Cancel or
    // stream frame can never reach a call that was already reused.
    private const int MaxPooled = 1024;
    private static readonly System.Collections.Concurrent.ConcurrentQueue<ServerCall> s_pool = new();

    // Valid from Rent until Recycle.
    private MessageConnection _connection = null!;
    private RpcMethodInfo _method = null!;
    private DateTime? _deadlineUtc;
    private long _startTimestamp;
    private Activity? _activity;

    // The connection's client.* span tags; valid from Rent until Recycle.
    private KeyValuePair<string, object?>[] _peerTags = [];

    // Set between QueueToThreadPool and Execute: what the thread pool runs, and its own copy of the
    // request payload (rented, returned once dispatch has read it).
    private IRpcDispatcher? _dispatcher;
    private byte[]? _payload;
    private int _payloadLength;

    // Kept across recycling: see CaptureOwnContext. _queuedRun carries Execute's arguments into it.
    private ExecutionContext? _ownContext;
    private (IRpcDispatcher? Dispatcher, byte[]? Payload, int Length) _queuedRun;

    // Created on first use of the token (most methods never ask for it) or at once when a deadline
    // must fire. Disposed when the call finishes; never pooled, so a token handed out keeps
    // meaning this call only.
    private CancellationTokenSource? _cancellation;

    // Set when the caller cancelled (or the connection dropped) before anyone asked for the token,
    // so a token created later starts out cancelled.
    private volatile bool _cancelRequested;
    private int _answered;
    private int _streamWindow;

    // The codec the request came with: the reader made right, and the answer uses the same.
    private RpcGen.Compression.RpcCompression _codec;

    // The client's stream of items (client and duplex streaming); created when the implementation
    // asks for it, which is when the client first gets credit. Set under _requestStreamGate.
    private IStreamReceiver? _requestStream;

    // A client stream with no items (or one whose producer failed at once) sends its end without
    // waiting for credit, so the end can arrive while the handler has not yet started on the thread
    // pool and asked for the stream. The reader keeps it here and GetRequestStream hands it to the
    // receiver. Found by the message-streams fuzz harness's seed capture on a loaded machine: the
    // server aborted the connection ("ended request stream 5 before it was open").
    // Guarded by _requestStreamGate; cleared when the call is returned to the pool.
    private readonly object _requestStreamGate = new();
    private bool _requestStreamEndedEarly;
    private RpcException? _requestStreamEarlyError;

    // Our stream of items to the client (server and duplex streaming).
    private StreamSender? _responseStream;

    private ServerCall()
    {
    }

    public static ServerCall Rent(
        MessageConnection connection,
        RpcMethodInfo method,
        uint callId,
        bool oneWay,
        long deadlineMicroseconds,
        RpcLimits limits,
        RpcGen.Compression.RpcCompression codec,
        RpcMetadata? headers,
        KeyValuePair<string, object?>[] peerTags)
    {
        if (!s_pool.TryDequeue(out var call))
        {
            call = new ServerCall();
        }

        call._connection = connection;
        call._method = method;
        call.CallId = callId;
        call.IsOneWay = oneWay;
        call._streamWindow = limits.StreamWindowBytes;
        call._codec = codec;

        // The sender must exist before the client's first credit is read, which can be before the
        // implementation produces its stream (e.g. an async method returning a Stream).
        if (method.Kind is RpcMethodKind.ServerStreaming or RpcMethodKind.DuplexStreaming)
        {
            call._responseStream = new StreamSender(connection, callId, senderIsCaller: false, codec);
        }

        // The deadline is the peer's number: one beyond RpcLimits.MaxDeadline (at most 49 days, the
        // range of a timer) is served as no deadline rather than trusted into a timer that throws.
        if (deadlineMicroseconds > 0 && deadlineMicroseconds <= (long)limits.MaxDeadline.TotalMicroseconds)
        {
            var remaining = TimeSpan.FromMicroseconds(deadlineMicroseconds);
            call._deadlineUtc = DateTime.UtcNow + remaining;
            call._cancellation = new CancellationTokenSource(remaining);
        }

        // The span starts when the implementation runs (Run), from these headers' trace context.
        call.ReceivedHeaders = headers;
        call._peerTags = peerTags;
        return call;
    }

    /// <summary>
    /// Runs the implementation on the calling thread, the connection's reader, up to its first
    /// incomplete await (<see cref="RpcHandlerExecution.Inline"/>).
    /// </summary>
    public void RunInline(IRpcDispatcher dispatcher, in ReadOnlySequence<byte> payload)
    {
        // The reader's own async context must not keep this call's span once it moves on: the next
        // call it reads would take it for its parent. (The call context is left for the next call
        // to overwrite: nothing else the reader runs reads it, and setting it allocates.)
        var outerActivity = Activity.Current;
        if (Run(dispatcher, payload))
        {
            Activity.Current = outerActivity;
        }
    }

    /// <summary>
    /// Hands the call to the thread pool with a copy of <paramref name="payload"/>, so the reader
    /// goes on reading whatever the implementation does (<see cref="RpcHandlerExecution.ThreadPool"/>).
    /// </summary>
    public void QueueToThreadPool(IRpcDispatcher dispatcher, in ReadOnlySequence<byte> payload)
    {
        _payloadLength = checked((int)payload.Length);
        _payload = _payloadLength == 0 ? [] : ArrayPool<byte>.Shared.Rent(_payloadLength);
        payload.CopyTo(_payload);
        _dispatcher = dispatcher;
        _connection.OnCallQueued();

        // Unsafe: the reader's execution context (whatever call context or span it last saw) must
        // not flow into the call; the thread pool (and the handler worker) reset the context after
        // each work item.
        _connection.QueueHandler(this);
    }

    /// <summary>Runs on the thread pool: dispatches the queued call and gives its payload copy back.</summary>
    void IThreadPoolWorkItem.Execute()
    {
        var connection = _connection;
        var turn = connection.TakeTurn(this);
        if (turn == MessageConnection.QueuedCallTurn.Parked)
        {
            return;
        }

        var dispatcher = _dispatcher!;
        var payload = _payload!;
        var payloadLength = _payloadLength;
        _dispatcher = null;
        _payload = null;
        try
        {
            if (turn == MessageConnection.QueuedCallTurn.Run)
            {
                // References in the request (callbacks) decode against the connection it came on, as on the reader.
                using var capabilities = RpcCapabilityContext.Enter(connection);

                // The implementation runs in this call's own execution context, in which
                // RpcCallContext.Current is already this call: setting it afresh on a pool thread
                // would allocate a context for every call.
                _queuedRun = (dispatcher, payload, payloadLength);
                if ((_ownContext ??= CaptureOwnContext()) is { } own)
                {
                    ExecutionContext.Run(own, s_runQueued, this);
                }
                else
                {
                    RunQueued();
                }
            }
            else
            {
                Fail(new RpcException(RpcStatusCode.Disconnected, "The connection closed before the call started."));
                Finish();
            }
        }
        finally
        {
            // The generated dispatcher reads the payload synchronously, so it is free by now.
            if (payload.Length != 0)
            {
                ArrayPool<byte>.Shared.Return(payload);
            }

            connection.OnQueuedCallRan();
        }
    }

    private static readonly ContextCallback s_runQueued = static state => ((ServerCall)state!).RunQueued();

    private void RunQueued()
    {
        var (dispatcher, payload, payloadLength) = _queuedRun;
        _queuedRun = default;
        Run(dispatcher!, new ReadOnlySequence<byte>(payload!, 0, payloadLength));
    }

    /// <summary>
    /// Captures, once per pooled call, an execution context holding only this call as
    /// <see cref="RpcCallContext.Current"/>. Called on a thread-pool thread running an unsafe work
    /// item, whose context is the default one, so nothing else leaks into it.
    /// </summary>
    private ExecutionContext? CaptureOwnContext()
    {
        RpcCallContext.SetCurrent(this);
        var captured = ExecutionContext.Capture();
        RpcCallContext.SetCurrent(null);
        return captured;
    }

    /// <summary>Starts the call's span and runs the implementation; returns whether a span was started (the call may be recycled by then).</summary>
    private bool Run(IRpcDispatcher dispatcher, in ReadOnlySequence<byte> payload)
    {
        if (_connection.Authorize(_method) is { } denial)
        {
            // Refused before the implementation (and any interceptor) runs; no span, as nothing ran.
            WriteError(new RpcException(RpcStatusCode.PermissionDenied, denial));
            Finish();
            return false;
        }

        _activity = RpcTelemetry.StartServer(_method, ReceivedHeaders, _peerTags);
        var activityStarted = _activity is not null;
        _startTimestamp = RpcTelemetry.IsMeasuring ? Stopwatch.GetTimestamp() : 0;
        RpcCallContext.SetCurrent(this);
        if (_connection.ServerInterceptors is { } interceptors)
        {
            RunIntercepted(interceptors, dispatcher, payload);
            return activityStarted;
        }

        ValueTask completion;
        try
        {
            completion = dispatcher.DispatchAsync(this, payload);
        }
        catch (Exception ex)
        {
            // A payload that does not decode, or an implementation that threw before returning a task.
            completion = default;
            Fail(ex);
        }

        if (completion.IsCompletedSuccessfully)
        {
            Finish();
        }
        else
        {
            _ = FinishAsync(completion);
        }

        return activityStarted;
    }

    public uint CallId { get; private set; }

    public bool IsOneWay { get; private set; }

    /// <summary>Whether the request came on the link's call lane: a plain answer goes back there (see <see cref="MessageConnection.SendResponse(uint, FrameBuffer, RpcMetadata?, bool)"/>).</summary>
    public bool AnswersOnLane { get; set; }

    public override RpcMethodInfo Method => _method;

    public override string Peer => _connection.Peer;

    /// <inheritdoc />
    public override RpcGen.Security.RpcPeerIdentity? PeerIdentity => _connection.PeerIdentity;

    public override DateTime? DeadlineUtc => _deadlineUtc;

    public override CancellationToken CancellationToken
    {
        get
        {
            var cts = Volatile.Read(ref _cancellation);
            if (cts is null)
            {
                var created = new CancellationTokenSource();
                cts = Interlocked.CompareExchange(ref _cancellation, created, null) ?? created;
                if (!ReferenceEquals(cts, created))
                {
                    created.Dispose();
                }
                else if (_cancelRequested)
                {
                    created.Cancel();
                }
            }

            return cts.Token;
        }
    }

    public override IAsyncEnumerable<TItem> GetRequestStream<TItem>(IRpcFormatter<TItem> formatter)
    {
        if (_method.Kind is not (RpcMethodKind.ClientStreaming or RpcMethodKind.DuplexStreaming))
        {
            throw new InvalidOperationException($"{_method.FullName} has no request stream.");
        }

        var receiver = new StreamReceiver<TItem>(_connection, CallId, receiverIsCaller: false, formatter, _streamWindow, onAbandoned: null);
        bool endedEarly;
        RpcException? earlyError;
        lock (_requestStreamGate)
        {
            if (_requestStream is not null)
            {
                throw new InvalidOperationException("The request stream of a call can be taken once.");
            }

            Volatile.Write(ref _requestStream, receiver);
            (endedEarly, earlyError) = (_requestStreamEndedEarly, _requestStreamEarlyError);
        }

        if (_cancelRequested)
        {
            receiver.Fail(new OperationCanceledException("The call was cancelled."));
        }

        receiver.Start();
        if (endedEarly)
        {
            try
            {
                receiver.OnEnd(earlyError);
            }
            catch (ProtocolViolation)
            {
                // Cancelled meanwhile: the stream already ended with the cancellation.
            }
        }

        return receiver;
    }

    public override async ValueTask CompleteStreamAsync<TItem>(IAsyncEnumerable<TItem> items, IRpcFormatter<TItem> formatter)
    {
        if (_responseStream is null)
        {
            throw new InvalidOperationException($"{_method.FullName} has no response stream.");
        }

        if (Interlocked.Exchange(ref _answered, 1) != 0)
        {
            return;
        }

        var outcome = await _responseStream.SendAsync(items, formatter, CancellationToken).ConfigureAwait(false);
        RpcTelemetry.StopServer(_method, _startTimestamp, outcome, _activity);
        OnStreamed(outcome);
    }

    /// <summary>A stream frame from the client for this call arrived.</summary>
    public void OnStreamItem(in System.Buffers.ReadOnlySequence<byte> payload) =>
        (Volatile.Read(ref _requestStream) ?? throw new ProtocolViolation($"The peer sent on request stream {CallId} before it was open.")).OnItem(payload);

    /// <summary>The client ended its request stream (possibly before the handler asked for it; see <see cref="_requestStreamEndedEarly"/>).</summary>
    public void OnStreamEnd(RpcException? error)
    {
        IStreamReceiver? receiver;
        lock (_requestStreamGate)
        {
            receiver = _requestStream;
            if (receiver is null)
            {
                if (_method.Kind is not (RpcMethodKind.ClientStreaming or RpcMethodKind.DuplexStreaming))
                {
                    throw new ProtocolViolation($"The peer ended request stream {CallId}, but {_method.FullName} has no request stream.");
                }

                if (_requestStreamEndedEarly)
                {
                    throw new ProtocolViolation($"The peer ended stream {CallId} twice.");
                }

                (_requestStreamEndedEarly, _requestStreamEarlyError) = (true, error);
                return;
            }
        }

        receiver.OnEnd(error);
    }

    /// <summary>The client granted credit for our response stream.</summary>
    public void OnCredit(uint bytes) =>
        (_responseStream ?? throw new ProtocolViolation($"The peer granted credit for call {CallId}, which has no response stream.")).OnCredit(bytes);

    /// <summary>
    /// Records that the caller cancelled (or the connection dropped) and returns what must be
    /// fired. Called under the inbound table's lock; the caller fires them after leaving it, because
    /// cancellation callbacks run user code.
    /// </summary>
    public (CancellationTokenSource? Token, IStreamReceiver? RequestStream) MarkCancelled()
    {
        _cancelRequested = true;
        return (Volatile.Read(ref _cancellation), Volatile.Read(ref _requestStream));
    }

    /// <summary>Fires what <see cref="MarkCancelled"/> returned.</summary>
    public static void Fire(CancellationTokenSource? token, IStreamReceiver? requestStream, RpcException? reason)
    {
        try
        {
            // Cancellation callbacks are user code (registrations, awaits of cancelled tasks), and
            // this runs on the reader: let the thread pool run them.
            _ = token?.CancelAsync();
        }
        catch (ObjectDisposedException)
        {
            // The call finished meanwhile.
        }

        if (reason is not null)
        {
            requestStream?.Fail(reason);
        }
    }

    protected override void WriteResponse<T>(T value, IRpcFormatter<T> formatter)
    {
        if (Interlocked.Exchange(ref _answered, 1) != 0)
        {
            return;
        }

        if (_pipeline is not null)
        {
            HoldResponse(value, formatter);
            return;
        }

        if (IsOneWay)
        {
            RpcTelemetry.StopServer(_method, _startTimestamp, RpcStatusCode.Ok, _activity);
            return;
        }

        var status = _connection.SendResponse(CallId, value, formatter, _codec, PendingTrailers, AnswersOnLane);
        RpcTelemetry.StopServer(_method, _startTimestamp, status, _activity);
    }

    protected override void WriteError(Exception exception)
    {
        if (Interlocked.Exchange(ref _answered, 1) != 0)
        {
            return;
        }

        if (_pipeline is not null)
        {
            _pipeline.Error = exception;
            return;
        }

        SendError(exception);
    }

    /// <summary>Answers with <paramref name="exception"/> (logged; sent unless the call is one-way) and ends the call's telemetry.</summary>
    private void SendError(Exception exception)
    {
        var (code, message) = Describe(exception);
        if (IsOneWay)
        {
            RpcLog.OneWayFailed(_connection.Logger, _method.FullName, exception);
        }
        else
        {
            RpcLog.CallFailed(_connection.Logger, _method.FullName, exception);
            _connection.SendError(CallId, code, message, (exception as RpcException)?.Detail, PendingTrailers);
        }

        RpcTelemetry.StopServer(_method, _startTimestamp, code, _activity);
    }

    /// <summary>Fails the call with an exception thrown synchronously by dispatch.</summary>
    public void Fail(Exception exception) => WriteError(exception);

    /// <summary>Releases what the call holds once it is answered, and returns the call to the pool.</summary>
    public void Finish()
    {
        // A one-way implementation that succeeded never writes an answer; its span ends here.
        if (IsOneWay && Interlocked.Exchange(ref _answered, 1) == 0)
        {
            RpcTelemetry.StopServer(_method, _startTimestamp, RpcStatusCode.Ok, _activity);
        }

        _connection.OnInboundFinished(this);
        var cts = Interlocked.Exchange(ref _cancellation, null);
        cts?.Dispose();
        Recycle();
    }

    private void Recycle()
    {
        _connection = null!;
        _method = null!;
        _deadlineUtc = null;
        _startTimestamp = 0;
        _activity = null;
        _peerTags = [];
        ReceivedHeaders = null;
        PendingTrailers = null;
        AnswersOnLane = false;
        _pipeline = null;
        _cancelRequested = false;
        _answered = 0;
        _requestStream = null;
        _requestStreamEndedEarly = false;
        _requestStreamEarlyError = null;
        _responseStream = null;
        _codec = default;
        if (s_pool.Count < MaxPooled)
        {
            s_pool.Enqueue(this);
        }
    }

    /// <summary>Waits for an asynchronous dispatch, then finishes.</summary>
    public async Task FinishAsync(ValueTask completion)
    {
        try
        {
            await completion.ConfigureAwait(false);
        }
        catch (Exception ex)
        {
            // One-way implementations that fail asynchronously end up here.
            WriteError(ex);
        }

        Finish();
    }

    private (RpcStatusCode Code, string Message) Describe(Exception exception) => exception switch
    {
        RpcException rpc => (rpc.StatusCode, rpc.Message),
        // The caller's own cancellation is the only other way the token fires (a dropped connection
        // has no one to answer), so a token that fired without it means the deadline passed.
        OperationCanceledException when _deadlineUtc is not null && !_cancelRequested =>
            (RpcStatusCode.DeadlineExceeded, $"{_method.FullName} did not complete before its deadline."),
        OperationCanceledException => (RpcStatusCode.Cancelled, $"{_method.FullName} was cancelled."),
        _ => (RpcStatusCode.Failed, $"{exception.GetType().Name}: {exception.Message}"),
    };
}
