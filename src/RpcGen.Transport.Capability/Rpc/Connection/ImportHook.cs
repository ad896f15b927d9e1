namespace RpcGen.Capnp;

/// <summary>A capability the peer exported to us: calls become <c>Call</c> messages addressed to its import id.</summary>
internal sealed class ImportHook(CapnpConnection connection, uint id) : CapabilityHook
{
    public uint Id { get; } = id;

    /// <summary>How many times the peer has sent this id (under the connection lock); our Release returns them all.</summary>
    public uint RemoteReferences { get; set; }

    public override CapnpConnection Connection => connection;

    public override PendingCall Call(CallRequest request) => connection.SendCall(this, request);

    protected override void OnReleased() => connection.OnImportReleased(this);
}

/// <summary>A capability that will be in the results of one of our questions: calls address it as a <c>promisedAnswer</c>.</summary>
internal sealed class PromisedAnswerHook(CapnpConnection connection, Question question, PipelinePath path) : CapabilityHook
{
    public Question Question { get; } = question;

    public PipelinePath Path { get; } = path;

    public override CapnpConnection Connection => connection;

    public override PendingCall Call(CallRequest request) => connection.SendCall(this, request);

    protected override void OnReleased() => connection.OnPromisedAnswerReleased(this);
}

/// <summary>
/// A promise the peer will resolve: an import sent as <c>senderPromise</c>, or a pipelined
/// capability of one of our questions. Until it resolves, calls go to the peer through
/// <see cref="Current"/>; when it resolves to one of our own capabilities after calls went through
/// it, new calls are embargoed until those have come back.
/// </summary>
internal sealed class RemotePromiseHook(CapnpConnection connection, CapabilityHook initial) : CapabilityHook
{
    private readonly TaskCompletionSource _resolvedSignal = new(TaskCreationOptions.RunContinuationsAsynchronously);

    // Owned. An ImportHook or PromisedAnswerHook of this connection until resolved, then the
    // resolution. Written under the connection lock; read without it through Resolved.
    private CapabilityHook _current = initial;
    private volatile bool _isResolved;

    /// <summary>Set (under the connection lock) once a call or descriptor went to the peer through this promise.</summary>
    public bool ReceivedCall { get; set; }

    /// <summary>For an import promise, its import id.</summary>
    public uint? ImportId { get; init; }

    /// <summary>For a pipelined capability, the path in its question's results.</summary>
    public PipelinePath Path { get; init; }

    public CapabilityHook Current => _current;

    public bool IsResolved => _isResolved;

    public override CapnpConnection Connection => connection;

    public override CapabilityHook? Resolved => _isResolved ? Volatile.Read(ref _current) : null;

    public override bool IsPromise => !_isResolved;

    public override Task WhenMoreResolved => _resolvedSignal.Task;

    public override PendingCall Call(CallRequest request) => connection.CallThroughPromise(this, request);

    /// <summary>Under the connection lock: points at <paramref name="replacement"/> (owned) from now on; returns the old target to release.</summary>
    public CapabilityHook ResolveLocked(CapabilityHook replacement)
    {
        var old = _current;
        Volatile.Write(ref _current, replacement);
        _isResolved = true;
        _resolvedSignal.TrySetResult();
        return old;
    }

    protected override void OnReleased() => connection.OnRemotePromiseReleased(this);
}
