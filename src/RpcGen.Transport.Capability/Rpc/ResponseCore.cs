namespace RpcGen.Capnp;

/// <summary>
/// The results of a completed call: a reader over the content and the capability table, shared by
/// reference count among whoever holds it (the caller, an answer kept for pipelined calls). The
/// last release returns the message's buffers and drops its capability references.
/// </summary>
/// <remarks>
/// Two shapes, each carrying only its own fields (one of each is made for every call between two
/// processes): <see cref="BuiltResponse"/>, results a local server wrote into a <c>Return</c> message,
/// and <see cref="ReceivedResponse"/>, results that arrived from a peer.
/// </remarks>
internal abstract class ResponseCore
{
    private int _references = 1;

    /// <summary>The results.</summary>
    public abstract PointerReader Content { get; }

    /// <summary>For locally built results, the <c>Return</c> struct they live in, so an answer can be sent without a copy.</summary>
    public virtual StructBuilder? ReturnStruct => null;

    /// <summary>For locally built results, the <c>Payload</c> struct inside <see cref="ReturnStruct"/>.</summary>
    public virtual StructBuilder Payload => default;

    /// <summary>For locally built results, the message they live in.</summary>
    public virtual CapnpMessageBuilder? Builder => null;

    public ResponseCore Retain()
    {
        if (Interlocked.Increment(ref _references) <= 1)
        {
            throw new ObjectDisposedException(nameof(ResponseCore), "The response was already released.");
        }

        return this;
    }

    public void Release()
    {
        if (Interlocked.Decrement(ref _references) == 0)
        {
            OnReleased();
        }
    }

    /// <summary>True the first time only, for locally built results: the Return struct may be sent in place once.</summary>
    public virtual bool TryUseInPlace() => false;

    /// <summary>A new reference to the capability at <paramref name="path"/>, or a broken capability saying why there is none.</summary>
    public CapabilityHook GetPipelinedHook(PipelinePath path)
    {
        try
        {
            var pointer = path.Walk(Content);
            var capability = pointer.GetCapability();
            if (capability is null)
            {
                return new BrokenHook(RpcErrors.NullCapability());
            }

            var hook = capability.Hook.AddRef();
            capability.Dispose();
            return hook;
        }
        catch (RpcException error)
        {
            return new BrokenHook(new RpcException(RpcStatusCode.Failed, $"Pipelined capability at {path} is unusable: {error.Message}", error));
        }
    }

    /// <summary>The last reference is gone: give back what the results hold.</summary>
    protected abstract void OnReleased();
}
