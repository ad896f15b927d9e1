namespace RpcGen.Capnp;

/// <summary>
/// One call being handled by an <see cref="ICapabilityServer"/>: its method, its parameters, a place
/// for its results, and a token that fires when the caller cancels (a <c>Finish</c> before the
/// <c>Return</c>). Results are written straight into the <c>Return</c> message that goes back.
/// </summary>
public sealed class CallContext
{
    private readonly CallRequest _request;

    // Created when the handler first asks for its token (most never do); _cancelRequested records a
    // cancellation that came first, so the token is created already cancelled. Both may be touched by
    // the handler and by the canceller at once: each checks the other after publishing its own.
    private CancellationTokenSource? _cancellation;
    private int _cancelRequested;

    // Created on first use of Results; handed to the response when the call completes.
    private CapnpMessageBuilder? _results;
    private StructBuilder _returnStruct;
    private StructBuilder _payload;
    private PointerBuilder _content;

    internal CallContext(CallRequest request)
    {
        _request = request;
        request.BeginDispatch();
    }

    /// <summary>The interface the method belongs to.</summary>
    public ulong InterfaceId => _request.InterfaceId;

    /// <summary>The method's ordinal within its interface.</summary>
    public ushort MethodId => _request.MethodId;

    /// <summary>The parameters (usually a struct). Valid until <see cref="ReleaseParams"/> or the call completes.</summary>
    public PointerReader Params => _request.Params;

    /// <summary>The connection that delivered the call; null for a call made in this process.</summary>
    internal CapnpConnection? Connection => _request.Origin;

    /// <summary>Fires when the caller no longer wants the result.</summary>
    public CancellationToken CancellationToken
    {
        get
        {
            var cancellation = Volatile.Read(ref _cancellation);
            if (cancellation is null)
            {
                var created = new CancellationTokenSource();
                cancellation = Interlocked.CompareExchange(ref _cancellation, created, null) ?? created;
                if (cancellation == created && Volatile.Read(ref _cancelRequested) != 0)
                {
                    created.Cancel();
                }
            }

            return cancellation.Token;
        }
    }

    /// <summary>Where the results go; write a struct here (see <see cref="InitResults"/>).</summary>
    public PointerBuilder Results
    {
        get
        {
            if (_results is null)
            {
                _results = new CapnpMessageBuilder(firstSegmentWords: 128);
                var message = _results.InitRoot(RpcSchema.Message.DataWords, RpcSchema.Message.Pointers);
                message.WriteUInt16(RpcSchema.Message.Which, RpcSchema.Message.Return);
                _returnStruct = message.InitStruct(RpcSchema.Message.Body, RpcSchema.Return.DataWords, RpcSchema.Return.Pointers);
                _payload = _returnStruct.InitStruct(RpcSchema.Return.Body, RpcSchema.Payload.DataWords, RpcSchema.Payload.Pointers);
                _content = _payload.GetPointer(RpcSchema.Payload.Content);
            }

            return _content;
        }
    }

    /// <summary>Initializes the results as a struct.</summary>
    public StructBuilder InitResults(ushort dataWords, ushort pointerCount) => Results.InitStruct(dataWords, pointerCount);

    /// <summary>
    /// Drops the parameters early (they hold capability references and buffers), with the typed
    /// proxies read from them that were not retained (<see cref="CapnpCapability.Retain{TService}"/>).
    /// </summary>
    public void ReleaseParams() => _request.ReleaseParams();

    /// <summary>The caller cancelled. A connection's reader hands the cancellation to the pool: it runs the handler's cancellation callbacks, which are user code.</summary>
    internal void Cancel()
    {
        if (_request.Handlers is not null)
        {
            ThreadPool.UnsafeQueueUserWorkItem(static context => context.CancelNow(), this, preferLocal: false);
        }
        else
        {
            CancelNow();
        }
    }

    private void CancelNow()
    {
        Interlocked.Exchange(ref _cancelRequested, 1);
        try
        {
            Volatile.Read(ref _cancellation)?.Cancel();
        }
        catch (ObjectDisposedException)
        {
            // The call already finished.
        }
    }

    /// <summary>Runs the server and reports the outcome to <paramref name="pending"/>.</summary>
    internal void Run(ICapabilityServer server, LocalPendingCall pending)
    {
        if (!pending.OnCancel(this))
        {
            // The caller cancelled while the call waited behind an earlier call to the same object.
            // Every delivered call starts (as on the reader); this one with its token already
            // cancelled, so the method can stop at once.
            CancelNow();
        }

        Task task;
        try
        {
            // Refused before the implementation runs; here, where it would run (the pool, by default).
            task = _request.Authorization?.Check(server, InterfaceId, MethodId) is { } denial
                ? Task.FromException(new RpcException(RpcStatusCode.PermissionDenied, denial))
                : server.DispatchAsync(this);
        }
        catch (Exception error)
        {
            task = Task.FromException(error);
        }

        if (task.IsCompleted)
        {
            Finish(task, pending);
        }
        else
        {
            FinishWhenDone(task, pending);
        }
    }

    /// <summary>
    /// Finishes once <paramref name="task"/> completes. A method of its own: the continuation's closure
    /// over <paramref name="pending"/> is then made only for a method that did not complete at once,
    /// not at the start of every <see cref="Run"/>.
    /// </summary>
    private void FinishWhenDone(Task task, LocalPendingCall pending) =>
        task.ContinueWith((t, state) => ((CallContext)state!).Finish(t, pending), this, CancellationToken.None, TaskContinuationOptions.ExecuteSynchronously, TaskScheduler.Default);

    private void Finish(Task task, LocalPendingCall pending)
    {
        _request.ReleaseParams();
        Volatile.Read(ref _cancellation)?.Dispose();
        if (task.IsCompletedSuccessfully)
        {
            _ = Results; // a method with no results still returns an (empty) results message
            pending.Complete(new BuiltResponse(_results!, _returnStruct, _payload, _content));
        }
        else
        {
            _results?.Dispose();
            pending.Fail(task.Exception?.InnerException ?? (Exception)RpcErrors.Cancelled());
        }
    }
}
