namespace RpcGen.Capnp;

/// <summary>
/// The results of a completed call: a reader over the content and the capability table, shared by
/// reference count among whoever holds it (the caller, an answer kept for pipelined calls). The
/// last release returns the message's buffers and drops its capability references.
/// </summary>
internal sealed class ResponseCore
{
    private readonly CapnpMessageBuilder? _builder;
    private readonly Capability?[]? _capabilities;

    // Where the content is: in the builder (results built here), or in a received message.
    private readonly PointerBuilder _builtContent;
    private readonly PointerReader _receivedContent;
    private int _references = 1;
    private int _usedInPlace;

    /// <summary>Results built here (by a local server) in a message shaped as an rpc.capnp <c>Return</c>.</summary>
    public ResponseCore(CapnpMessageBuilder builder, StructBuilder returnStruct, StructBuilder payload, PointerBuilder content)
    {
        _builder = builder;
        ReturnStruct = returnStruct;
        Payload = payload;
        _builtContent = content;
    }

    /// <summary>Results received from a peer; <paramref name="capabilities"/> are owned references.</summary>
    public ResponseCore(CapnpMessage message, PointerReader content, Capability?[] capabilities)
    {
        message.CapTable = capabilities;
        _capabilities = capabilities;
        _receivedContent = content;
    }

    /// <summary>
    /// The results. For results built here the reader over the builder is made on first use: results a
    /// connection sends back in place are never read here.
    /// </summary>
    public PointerReader Content => _builder is null ? _receivedContent : _builtContent.AsReader();

    /// <summary>For locally built results, the <c>Return</c> struct they live in, so an answer can be sent without a copy.</summary>
    public StructBuilder? ReturnStruct { get; }

    /// <summary>For locally built results, the <c>Payload</c> struct inside <see cref="ReturnStruct"/>.</summary>
    public StructBuilder Payload { get; }

    public CapnpMessageBuilder? Builder => _builder;

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
        var remaining = Interlocked.Decrement(ref _references);
        if (remaining != 0)
        {
            return;
        }

        _builder?.Dispose();
        if (_capabilities is not null)
        {
            foreach (var capability in _capabilities)
            {
                capability?.Dispose();
            }
        }
    }

    /// <summary>True the first time only: the Return struct may be sent in place once.</summary>
    public bool TryUseInPlace() => ReturnStruct is not null && Interlocked.Exchange(ref _usedInPlace, 1) == 0;

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
}
