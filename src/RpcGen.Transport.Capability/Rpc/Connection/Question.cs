namespace RpcGen.Capnp;

/// <summary>
/// A row of the question table: a call (or bootstrap) we sent and its lifecycle. All fields are
/// guarded by the connection's lock. The id is free again once the Return has arrived and our
/// Finish has been sent.
/// </summary>
internal sealed class Question(CapnpConnection connection) : PendingCall
{
    public uint Id { get; set; }

    /// <summary>Set when the Return (or an <c>unimplemented</c> echo) arrives.</summary>
    public bool ReturnReceived { get; set; }

    /// <summary>Set when we send Finish; never cleared.</summary>
    public bool FinishSent { get; set; }

    /// <summary>Set when the consumer drops the call; the results, if they come, are released here.</summary>
    public bool Dropped { get; set; }

    /// <summary>Live <see cref="PromisedAnswerHook"/>s that address this question; Finish waits for them.</summary>
    public int PipelineHolders { get; set; }

    /// <summary>Promises for capabilities in the results, resolved when the results arrive. Not owned. Created by the first (most calls have none).</summary>
    public List<RemotePromiseHook>? PipelinedPromises { get; set; }

    /// <summary>Exports written into the call's capability table, released if the Return says <c>releaseParamCaps</c>.</summary>
    public List<uint>? ParamExports { get; set; }

    /// <summary>After the Return: the results (not owned; the consumer owns them) or the error.</summary>
    public ResponseCore? Result { get; set; }

    public RpcException? Error { get; set; }

    /// <summary>When the Return said <c>takeFromOtherQuestion</c> and that answer of ours has not completed yet.</summary>
    public Answer? AwaitingRedirect { get; set; }

    // Who is told the outcome: null until someone is; a listener (TryListenInline: the CallPromise
    // awaiting it); or Settled once the outcome (or the drop) went to the listener or to _completion.
    // The listener attaches without the connection's lock (null to listener, the one change made off
    // it); the outcome or the drop is told under it, and Settled is written only after the listener
    // has been told, so whoever reads Settled knows the listener has its outcome.
    private object? _consumer;
    private static readonly object Settled = new();

    // Made only for a consumer that reads Response (a call forwarded from another peer, a bootstrap),
    // or to keep an outcome nobody listens for; a CallPromise that listens never needs it.
    private TaskCompletionSource<ResponseCore>? _completion;

    private TaskCompletionSource<ResponseCore> Completion => LazyCompletion.Get(ref _completion);

    /// <summary>
    /// The consumer will not take the response (under the connection's lock): <see cref="Response"/> ends
    /// cancelled unless it already has an outcome, and a listener is told it was dropped. Cancelled, not
    /// faulted: nobody will look at it, and a faulted task nobody looks at is reported as an unobserved
    /// exception when it is collected.
    /// </summary>
    public void MarkDropped()
    {
        Dropped = true;
        switch (Interlocked.CompareExchange(ref _consumer, Settled, null))
        {
            case null:
                Completion.TrySetCanceled();
                break;
            case IPendingCallListener listener:
                listener.OnDropped();
                Volatile.Write(ref _consumer, Settled);
                break;
        }
    }

    /// <summary>
    /// Tells the consumer the outcome (under the connection's lock). True when <paramref name="result"/>
    /// was handed over; false when the consumer already had an outcome or dropped the call (then the
    /// caller still owns it).
    /// </summary>
    public bool TryDeliver(ResponseCore? result, RpcException? error)
    {
        switch (Interlocked.CompareExchange(ref _consumer, Settled, null))
        {
            case null when result is null:
                Completion.TrySetException(error!);
                return false;
            case null:
                return Completion.TrySetResult(result);
            case IPendingCallListener listener:
                listener.OnOutcome(result, error);
                Volatile.Write(ref _consumer, Settled);
                return true;
            default:
                return false;
        }
    }

    public override Task<ResponseCore> Response => Completion.Task;

    /// <summary>The consumer is <paramref name="listener"/>, told under the connection's lock; false once the outcome is known.</summary>
    public override bool TryListenInline(IPendingCallListener listener) =>
        Interlocked.CompareExchange(ref _consumer, listener, null) is null;

    public override CapabilityHook GetPipelinedHook(PipelinePath path) => connection.GetQuestionPipelinedHook(this, path);

    // Once settled there is nothing left to drop: the outcome went to the consumer (its pipeline
    // resolved, and Finish went out or waits only for pipelined holders), or the call was dropped
    // already. Skipping the connection's lock here spares every awaited call one acquisition.
    public override void Drop()
    {
        if (Volatile.Read(ref _consumer) != Settled)
        {
            connection.DropQuestion(this, cancel: false);
        }
    }

    public override void Cancel()
    {
        if (Volatile.Read(ref _consumer) != Settled)
        {
            connection.DropQuestion(this, cancel: true);
        }
    }
}
