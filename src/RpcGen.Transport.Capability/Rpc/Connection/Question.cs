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

    public TaskCompletionSource<ResponseCore> Completion { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);

    /// <summary>
    /// The consumer will not take the response (under the connection's lock): <see cref="Response"/> ends
    /// cancelled unless it already has an outcome. Cancelled, not faulted: nobody will look at it, and a
    /// faulted task nobody looks at is reported as an unobserved exception when it is collected.
    /// </summary>
    public void MarkDropped()
    {
        Dropped = true;
        Completion.TrySetCanceled();
    }

    public override Task<ResponseCore> Response => Completion.Task;

    public override CapabilityHook GetPipelinedHook(PipelinePath path) => connection.GetQuestionPipelinedHook(this, path);

    public override void Drop() => connection.DropQuestion(this, cancel: false);

    public override void Cancel() => connection.DropQuestion(this, cancel: true);
}
