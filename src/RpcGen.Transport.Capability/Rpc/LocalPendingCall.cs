namespace RpcGen.Capnp;

/// <summary>
/// A call whose outcome is produced in this process: by a local server, or by the call it is later
/// forwarded to (a call queued on a promise, an embargo). Pipelined capabilities requested before the
/// outcome are local promises, resolved from the results or to the forwarded call's pipeline.
/// </summary>
internal sealed class LocalPendingCall : PendingCall
{
    private readonly object _gate = new();
    private readonly TaskCompletionSource<ResponseCore> _response = new(TaskCreationOptions.RunContinuationsAsynchronously);

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

    // The local server call's cancellation, once it has started; _cancelled once the consumer asked
    // to stop it (possibly before it started: a call waiting in a handler queue). Both under _gate.
    private Action? _cancel;
    private bool _cancelled;

    public override Task<ResponseCore> Response => _response.Task;

    /// <summary>
    /// What to do when the consumer cancels: stop the local server call. Returns false, and keeps
    /// nothing, when the consumer already cancelled (before the call started): then the caller cancels it itself.
    /// </summary>
    public bool OnCancel(Action cancel)
    {
        lock (_gate)
        {
            if (_cancelled)
            {
                return false;
            }

            _cancel = cancel;
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

        if (dropped || !_response.TrySetResult(result))
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

        _response.TrySetException(rpcError);
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
        Action? cancel = null;
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
                cancel = _cancel;
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

        _response.TrySetException(RpcErrors.Cancelled());
        cancel?.Invoke();
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
            _response.TrySetException(RpcErrors.ToRpcException(error));
            return;
        }

        bool dropped;
        lock (_gate)
        {
            dropped = _dropped;
        }

        if (dropped || !_response.TrySetResult(result))
        {
            result.Release();
        }
    }
}
