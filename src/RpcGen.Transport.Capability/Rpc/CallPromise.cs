using System.Runtime.CompilerServices;

namespace RpcGen.Capnp;

/// <summary>
/// A call in flight. Await it for the <see cref="CallResponse"/> (which the awaiter owns and must
/// dispose), or take capabilities it will return with <see cref="GetPipelinedCapability"/> and call
/// them at once: those calls travel to the callee immediately and run when the results exist,
/// without a round trip. Disposing the promise before it completes cancels the call unless
/// pipelined capabilities still depend on it.
/// </summary>
public sealed class CallPromise : IDisposable, IPendingCallListener
{
    private const int Open = 0, Claimed = 1, Disposed = 2;

    private readonly PendingCall _pending;
    private readonly CancellationTokenRegistration _registration;

    // Open until the response is handed to an awaiter (Claimed) or the promise is disposed.
    private int _state;

    // Made when Response is first asked for, never before: a promise disposed unasked (a pipelined
    // call's promise, usually) leaves no task behind to fault, nothing to await, nothing unobserved.
    private Task<CallResponse>? _response;

    // When the call tells this promise its outcome directly (a question to a peer: see
    // PendingCall.TryListenInline), the outcome waits here until Response is asked for, and the
    // response task is completed from it: no task of the pending call's and no wrapping state machine.
    // _outcome is set (after _result and _error) once the outcome or the drop is known; _source once
    // Response is asked for. Each side publishes its own field with a full fence and then reads the
    // other's, so at least one of them completes the task.
    private readonly bool _listening;
    private ResponseCore? _result;
    private RpcException? _error;
    private int _outcome;
    private TaskCompletionSource<CallResponse>? _source;

    internal CallPromise(PendingCall pending, CancellationToken cancellationToken)
    {
        _pending = pending;
        _listening = pending.TryListenInline(this);
        if (cancellationToken.CanBeCanceled)
        {
            _registration = cancellationToken.Register(static state => ((CallPromise)state!)._pending.Cancel(), this);
        }
    }

    /// <summary>
    /// The results; the <see cref="CallResponse"/> belongs to whoever awaits this and must be disposed.
    /// Fails with <see cref="RpcStatusCode.Cancelled"/> if the call was cancelled or the promise disposed first.
    /// </summary>
    public Task<CallResponse> Response
    {
        get
        {
            if (Volatile.Read(ref _response) is { } made)
            {
                return made;
            }

            switch (Interlocked.CompareExchange(ref _state, Claimed, Open))
            {
                case Open:
                    var response = _listening ? ListenedResponse() : WrapAsync(_pending.Response);
                    Volatile.Write(ref _response, response);
                    return response;

                case Disposed when Volatile.Read(ref _response) is null:
                    return Task.FromException<CallResponse>(RpcErrors.Cancelled());

                default:
                    // Another thread claimed the response and is making its task now.
                    var spin = default(SpinWait);
                    while (Volatile.Read(ref _response) is null)
                    {
                        spin.SpinOnce();
                    }

                    return _response!;
            }
        }
    }

    /// <summary>Awaits <see cref="Response"/>.</summary>
    public TaskAwaiter<CallResponse> GetAwaiter() => Response.GetAwaiter();

    /// <summary>
    /// The capability the results will hold at <paramref name="pointerPath"/>: pointer indices from
    /// the result struct down (for a bootstrap-style result that is itself a capability, no indices).
    /// The caller owns the returned reference.
    /// </summary>
    public Capability GetPipelinedCapability(params ushort[] pointerPath) => new(_pending.GetPipelinedHook(new PipelinePath(pointerPath)));

    /// <summary>
    /// Stops waiting: cancels the call if it has not completed and nothing is pipelined on it; releases
    /// unclaimed results. Capabilities already taken with <see cref="GetPipelinedCapability"/> keep working
    /// (the call goes on for them), and the results they are not part of are released when they arrive.
    /// Dropping a call this way throws nothing and leaves no failed task behind.
    /// </summary>
    public void Dispose()
    {
        var previous = Interlocked.Exchange(ref _state, Disposed);
        _registration.Dispose();
        if (previous == Disposed)
        {
            return;
        }

        _pending.Drop();
        if (previous == Open && _listening)
        {
            // The call's outcome, if it came, came before Drop returned (both under the connection's
            // lock), and none comes after: results nobody asked for are ours to release.
            if (Volatile.Read(ref _outcome) != 0)
            {
                _result?.Release();
            }
        }
        else if (previous == Open)
        {
            // Nobody asked for the response. After Drop the call's task is settled or will never carry
            // results: results already there are ours to release; an error already there is looked at,
            // so that it is not reported as unobserved.
            var pending = _pending.Response;
            if (pending.IsCompletedSuccessfully)
            {
                pending.Result.Release();
            }
            else if (pending.IsFaulted)
            {
                _ = pending.Exception;
            }
        }
    }

    /// <summary>The response task of a listened call, completed now if the outcome is already here.</summary>
    private Task<CallResponse> ListenedResponse()
    {
        var source = new TaskCompletionSource<CallResponse>(TaskCreationOptions.RunContinuationsAsynchronously);
        Interlocked.Exchange(ref _source, source);
        if (Volatile.Read(ref _outcome) != 0)
        {
            Complete(source);
        }

        return source.Task;
    }

    void IPendingCallListener.OnOutcome(ResponseCore? result, RpcException? error)
    {
        _result = result;
        _error = error;
        Publish();
    }

    void IPendingCallListener.OnDropped() => Publish();

    /// <summary>The outcome is known: completes the response task if it was asked for.</summary>
    private void Publish()
    {
        Interlocked.Exchange(ref _outcome, 1);
        if (Volatile.Read(ref _source) is { } source)
        {
            Complete(source);
        }
    }

    /// <summary>Completes <paramref name="source"/> from the outcome; either side may call it, the first wins.</summary>
    private void Complete(TaskCompletionSource<CallResponse> source)
    {
        if (_result is { } result)
        {
            // A losing second wrapper owns nothing: only the one in the task is disposed.
            source.TrySetResult(new CallResponse(result));
        }
        else
        {
            // A dropped or cancelled call: an RpcException(Cancelled), made only when someone awaits.
            source.TrySetException(_error ?? RpcErrors.Cancelled());
        }
    }

    private static async Task<CallResponse> WrapAsync(Task<ResponseCore> pending)
    {
        // A dropped or cancelled call's task ends cancelled (no exception object): say so as an RpcException, thrown once.
        await ((Task)pending).ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing);
        if (pending.IsCanceled)
        {
            throw RpcErrors.Cancelled();
        }

        return new CallResponse(pending.GetAwaiter().GetResult());
    }
}
