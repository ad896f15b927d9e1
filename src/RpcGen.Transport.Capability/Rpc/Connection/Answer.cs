namespace RpcGen.Capnp;

/// <summary>
/// A row of the answer table: a call (or bootstrap) the peer sent us. Guarded by the connection's
/// lock. The id stays in use until the peer's Finish, after our Return.
/// </summary>
internal sealed class Answer(uint id, CapnpConnection connection) : IPendingCallListener
{
    public uint Id { get; } = id;

    /// <summary>The call said <c>sendResultsTo.yourself</c>: its results wait here for a <c>takeFromOtherQuestion</c>.</summary>
    public bool RedirectResults { get; init; }

    /// <summary>The delivery of the call in this process; set right after the call is delivered, until it completes.</summary>
    public PendingCall? Call { get; set; }

    /// <summary>Set when the call's outcome is known (then <see cref="Result"/> or <see cref="Error"/> is set).</summary>
    public bool Completed { get; set; }

    /// <summary>The results, owned here from completion until Finish, for calls pipelined on them.</summary>
    public ResponseCore? Result { get; set; }

    public RpcException? Error { get; set; }

    public bool ReturnSent { get; set; }

    public bool FinishReceived { get; set; }

    /// <summary>Exports written into the Return's capability table, released if Finish says <c>releaseResultCaps</c>.</summary>
    public List<uint>? ResultExports { get; set; }

    /// <summary>Our question whose Return said <c>takeFromOtherQuestion</c> naming this answer.</summary>
    public Question? TakenBy { get; set; }

    /// <summary>The call's outcome, told by a call in this process that supports it (see <see cref="PendingCall.TryListen"/>).</summary>
    public void OnOutcome(ResponseCore? result, RpcException? error) => connection.OnAnswerOutcome(this, result, error);

    /// <summary>The call was dropped (the peer's Finish, or the connection ended): its Return says cancelled.</summary>
    public void OnDropped() => connection.OnAnswerOutcome(this, null, RpcErrors.Cancelled());
}

/// <summary>A row of the import table: the one <see cref="ImportHook"/> for a peer's export id, and its promise wrapper if it was sent as a promise. Neither is owned.</summary>
internal sealed class ImportEntry(ImportHook import)
{
    public ImportHook Import { get; set; } = import;

    public RemotePromiseHook? Promise { get; set; }
}

/// <summary>A row of the export table: a capability of ours the peer holds, and how many times we sent its id.</summary>
internal sealed class ExportEntry(CapabilityHook hook, bool isPromise)
{
    /// <summary>Owned. For an exported promise, replaced by its resolution when that is announced.</summary>
    public CapabilityHook Hook { get; set; } = hook;

    public uint ReferenceCount { get; set; } = 1;

    public bool IsPromise { get; } = isPromise;
}

/// <summary>
/// An embargo we asked for: calls to a promise that resolved to one of our own capabilities wait in
/// <see cref="Queue"/> until our Disembargo comes back, so they cannot overtake calls still travelling
/// through the peer.
/// </summary>
internal sealed class Embargo(LocalPromiseHook queue, CapabilityHook target)
{
    /// <summary>Owned reference to the queue.</summary>
    public LocalPromiseHook Queue { get; } = queue;

    /// <summary>Owned reference to where the queued calls go once the embargo lifts.</summary>
    public CapabilityHook Target { get; } = target;
}
