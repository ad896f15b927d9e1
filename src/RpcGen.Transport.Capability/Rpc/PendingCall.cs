namespace RpcGen.Capnp;

/// <summary>
/// A call in flight, seen from its caller. It has exactly one consumer (an application promise, an
/// answer owed to a peer, or an outer call it was forwarded from). The consumer either takes the
/// response (when <see cref="Response"/> succeeds, the one reference it carries belongs to the
/// consumer) or drops the call first, after which the response, if it still arrives, is released
/// here and <see cref="Response"/> ends cancelled (<see cref="Task.IsCanceled"/>, not faulted: nobody
/// looks at it, so it must not hold an exception that would be reported as unobserved).
/// </summary>
internal abstract class PendingCall
{
    /// <summary>Completes with the results, or fails with an <see cref="RpcException"/>.</summary>
    public abstract Task<ResponseCore> Response { get; }

    /// <summary>
    /// A new reference to the capability that will be at <paramref name="path"/> in the results:
    /// before they arrive, a promise calls can be pipelined on.
    /// </summary>
    public abstract CapabilityHook GetPipelinedHook(PipelinePath path);

    /// <summary>The consumer will not take the response. Pipelined capabilities already handed out keep working.</summary>
    public abstract void Drop();

    /// <summary>The caller cancelled: like <see cref="Drop"/>, and the callee is asked to stop even if pipelined calls depend on the result.</summary>
    public virtual void Cancel() => Drop();

    /// <summary>
    /// Makes <paramref name="listener"/> the consumer: told the outcome once, on the thread that settles
    /// it, instead of through <see cref="Response"/> (no task continuation, no thread-pool hop). False
    /// when this kind of call does not support it or the outcome is already known: then await
    /// <see cref="Response"/>.
    /// </summary>
    public virtual bool TryListen(IPendingCallListener listener) => false;

    /// <summary>
    /// Like <see cref="TryListen"/>, for a listener that may be told while the settling side holds its
    /// locks (a connection's lock, for a question): it must take no lock, block on nothing and run no
    /// user code. The consumer then needs no <see cref="Response"/> task. False when this kind of call
    /// does not support it or the outcome is already known.
    /// </summary>
    public virtual bool TryListenInline(IPendingCallListener listener) => false;
}

/// <summary>The consumer of a <see cref="PendingCall"/> told its outcome directly (see <see cref="PendingCall.TryListen"/>).</summary>
internal interface IPendingCallListener
{
    /// <summary>The outcome: <paramref name="result"/> (owned by the listener from now on), or <paramref name="error"/>.</summary>
    void OnOutcome(ResponseCore? result, RpcException? error);

    /// <summary>The consumer dropped the call before its outcome: the call ends cancelled, and no outcome follows.</summary>
    void OnDropped();
}
