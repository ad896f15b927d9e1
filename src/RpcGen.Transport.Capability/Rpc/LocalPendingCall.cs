namespace RpcGen.Capnp;

/// <summary>
/// A call whose outcome is produced in this process: by a local server, or by the call it is later
/// forwarded to (a call queued on a promise, an embargo). Pipelined capabilities requested before the
/// outcome are local promises, resolved from the results or to the forwarded call's pipeline.
/// </summary>
internal sealed class LocalPendingCall : PendingCall
{
    private readonly object _gate = new();

    // Made when the consumer first asks for Response, or when an outcome must be kept for a consumer
    // that has not asked yet; never for a consumer told directly (see TryListen), as a connection's
    // answer is.
    private TaskCompletionSource<ResponseCore>? _response;

    // Promises handed out before the outcome was known, by path. Each entry holds one reference;
    // resolved when the outcome (or the call it is forwarded to) is known, and cleared only once all
    // are resolved (see ResolvePipelined). No entry is added once the outcome is known.
    private Dictionary<PipelinePath, LocalPromiseHook>? _pipelined;
    private bool _pipelineUsed;

    // At most one of these is set; once set, never changes. _result is not owned here: the consumer owns it.
    private PendingCall? _forwardedTo;
    private ResponseCore? _result;
    private RpcException? _error;

    private bool _dropped;

    // The consumer told the outcome directly instead of through _response (see TryListen). Set under
    // _gate, only before any outcome; whoever tells it swaps in Served, so it is told once and a later
    // outcome finds the consumer served (and releases what it carries).
    private IPendingCallListener? _listener;
    private static readonly IPendingCallListener Served = new ServedListener();

    // The local server call, once it has started (cancelled through it); _cancelled once the consumer
    // asked to stop it (possibly before it started: a call waiting in a handler queue). Both under _gate.
    private CallContext? _running;
    private bool _cancelled;

    public override Task<ResponseCore> Response => ResponseSource.Task;

    private TaskCompletionSource<ResponseCore> ResponseSource => LazyCompletion.Get(ref _response);

    public override bool TryListen(IPendingCallListener listener)
    {
        lock (_gate)
        {
            if (HasOutcome || _dropped)
            {
                return false;
            }

            _listener = listener;
            return true;
        }
    }

    /// <summary>
    /// The local server call that started: cancelled if the consumer cancels. Returns false, and keeps
    /// nothing, when the consumer already cancelled (before the call started): then the caller cancels it itself.
    /// </summary>
    public bool OnCancel(CallContext running)
    {
        lock (_gate)
        {
            if (_cancelled)
            {
                return false;
            }

            _running = running;
            return true;
        }
    }

    public void Complete(ResponseCore result)
    {
        Dictionary<PipelinePath, LocalPromiseHook>? pipelined;
        bool dropped;
        lock (_gate)
        {
            if (HasOutcome)
            {
                result.Release();
                return;
            }

            _result = result;
            pipelined = _pipelined;
            dropped = _dropped;
        }

        // Pipelined promises resolve before the caller hears of the results, so calls queued on
        // them are on their way before anyone can make a newer call directly on the results.
        ResolvePipelined(pipelined, result, forwardedTo: null, error: null);

        if (dropped || !TryDeliver(result))
        {
            result.Release();
        }
    }

    public void Fail(Exception error)
    {
        var rpcError = RpcErrors.ToRpcException(error);
        Dictionary<PipelinePath, LocalPromiseHook>? pipelined;
        lock (_gate)
        {
            if (HasOutcome)
            {
                return;
            }

            _error = rpcError;
            pipelined = _pipelined;
        }

        ResolvePipelined(pipelined, result: null, forwardedTo: null, rpcError);

        TryDeliver(rpcError);
    }

    /// <summary>The outcome will be <paramref name="inner"/>'s: this call becomes its consumer.</summary>
    public void Forward(PendingCall inner)
    {
        Dictionary<PipelinePath, LocalPromiseHook>? pipelined;
        bool dropped;
        lock (_gate)
        {
            if (HasOutcome)
            {
                inner.Drop();
                return;
            }

            _forwardedTo = inner;
            pipelined = _pipelined;
            dropped = _dropped;
        }

        ResolvePipelined(pipelined, result: null, inner, error: null);

        if (dropped)
        {
            inner.Drop();
            return;
        }

        _ = FollowAsync(inner);
    }

    public override CapabilityHook GetPipelinedHook(PipelinePath path)
    {
        PendingCall? forwardedTo;
        lock (_gate)
        {
            if (_pipelined is not null && _pipelined.TryGetValue(path, out var earlier))
            {
                // Calls were pipelined on this path before the outcome: go through the same promise,
                // behind them, even while it is being resolved.
                return earlier.AddRef();
            }

            forwardedTo = _forwardedTo;
            if (forwardedTo is null)
            {
                if (_result is not null)
                {
                    return _result.GetPipelinedHook(path);
                }

                if (_error is not null)
                {
                    return new BrokenHook(_error);
                }

                _pipelineUsed = true;
                _pipelined ??= [];
                if (!_pipelined.TryGetValue(path, out var promise))
                {
                    promise = new LocalPromiseHook();
                    _pipelined[path] = promise;
                }

                return promise.AddRef();
            }
        }

        return forwardedTo.GetPipelinedHook(path);
    }

    public override void Drop() => Drop(cancelEvenIfPipelined: false);

    /// <summary>
    /// Resolves the promises handed out before the outcome (one of <paramref name="result"/>,
    /// <paramref name="forwardedTo"/>, <paramref name="error"/>), then forgets them. They stay in
    /// <c>_pipelined</c> while they resolve. The race this closes: a handler completes on the thread
    /// pool while the connection's reader delivers the peer's next call pipelined on the same path;
    /// taken straight from the results, that call would reach the target before the calls still
    /// queued in the promise, which the peer made first. Through the promise it queues behind them.
    /// </summary>
    private void ResolvePipelined(Dictionary<PipelinePath, LocalPromiseHook>? pipelined, ResponseCore? result, PendingCall? forwardedTo, RpcException? error)
    {
        if (pipelined is null)
        {
            return;
        }

        foreach (var (path, promise) in pipelined)
        {
            promise.Resolve(result?.GetPipelinedHook(path) ?? forwardedTo?.GetPipelinedHook(path) ?? new BrokenHook(error!));
        }

        lock (_gate)
        {
            _pipelined = null;
        }

        foreach (var promise in pipelined.Values)
        {
            promise.Release();
        }
    }

    public override void Cancel() => Drop(cancelEvenIfPipelined: true);

    private bool HasOutcome => _forwardedTo is not null || _result is not null || _error is not null;

    private void Drop(bool cancelEvenIfPipelined)
    {
        PendingCall? forwardedTo;
        CallContext? cancel = null;
        lock (_gate)
        {
            if (_dropped)
            {
                return;
            }

            _dropped = true;
            forwardedTo = _forwardedTo;
            if (!HasOutcome && (cancelEvenIfPipelined || !_pipelineUsed))
            {
                // Nobody else depends on the results: stop the work (or have it start cancelled).
                _cancelled = true;
                cancel = _running;
            }
        }

        if (forwardedTo is not null)
        {
            if (cancelEvenIfPipelined)
            {
                forwardedTo.Cancel();
            }
            else
            {
                forwardedTo.Drop();
            }
        }

        DeliverDropped();
        cancel?.Cancel();
    }

    private async Task FollowAsync(PendingCall inner)
    {
        ResponseCore result;
        try
        {
            result = await inner.Response.ConfigureAwait(false);
        }
        catch (Exception error)
        {
            TryDeliver(RpcErrors.ToRpcException(error));
            return;
        }

        bool dropped;
        lock (_gate)
        {
            dropped = _dropped;
        }

        if (dropped || !TryDeliver(result))
        {
            result.Release();
        }
    }

    /// <summary>Gives the consumer <paramref name="result"/>: the listener, or <see cref="Response"/>. False when the consumer already has an outcome.</summary>
    private bool TryDeliver(ResponseCore result)
    {
        switch (TakeListener())
        {
            case null:
                return ResponseSource.TrySetResult(result);
            case ServedListener:
                return false;
            case var listener:
                listener.OnOutcome(result, null);
                return true;
        }
    }

    /// <summary>Tells the consumer the call failed: the listener, or <see cref="Response"/>.</summary>
    private void TryDeliver(RpcException error)
    {
        switch (TakeListener())
        {
            case null:
                ResponseSource.TrySetException(error);
                break;
            case ServedListener:
                break;
            case var listener:
                listener.OnOutcome(null, error);
                break;
        }
    }

    /// <summary>The consumer dropped the call: <see cref="Response"/> ends cancelled (not faulted: nobody looks at it); a listener is told Cancelled.</summary>
    private void DeliverDropped()
    {
        switch (TakeListener())
        {
            case null:
                ResponseSource.TrySetCanceled();
                break;
            case ServedListener:
                break;
            case var listener:
                listener.OnDropped();
                break;
        }
    }

    /// <summary>The listener to tell (once), <see cref="Served"/> if it was already told, or null if there is none.</summary>
    private IPendingCallListener? TakeListener()
    {
        var listener = Volatile.Read(ref _listener);
        return listener is null ? null : Interlocked.Exchange(ref _listener, Served);
    }

    /// <summary>Stands in for a listener already told the outcome.</summary>
    private sealed class ServedListener : IPendingCallListener
    {
        public void OnOutcome(ResponseCore? result, RpcException? error) => result?.Release();

        public void OnDropped()
        {
            // Already told its outcome: nothing follows.
        }
    }
}
