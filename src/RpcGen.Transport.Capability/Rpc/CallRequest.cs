namespace RpcGen.Capnp;

/// <summary>
/// A call's method and parameters on their way to a target. Parameters built here are written
/// straight into an rpc.capnp <c>Message.call</c>, so sending them to a peer needs no copy; parameters
/// that arrived from a peer are read in place and copied only if the call is forwarded to another
/// peer. Whoever finally handles the request releases its parameters exactly once.
/// </summary>
internal sealed class CallRequest
{
    // Built here: the message and its Call struct. Cleared when handed to a connection or released.
    private CapnpMessageBuilder? _builder;
    private StructBuilder _call;
    private StructBuilder _payload;
    private PointerBuilder _content;

    // Arrived from a peer: the message and the capability references its table owns.
    private PointerReader _inboundContent;
    private Capability?[]? _inboundCapabilities;

    private int _released;

    // The typed proxies a server read from these parameters, released with them; created by the
    // first one (most calls pass no capabilities).
    private ParamsScope? _lent;

    // A request built here and sent to a peer is finished with once its connection has taken its
    // message (TakeForSending): nothing holds it after that (CapnpRequest lets go of it before sending,
    // a queue before delivering). One such request per thread is kept for the next Create, so an
    // awaited call made from one thread after another makes no new request object.
    [ThreadStatic]
    private static CallRequest? t_spare;

    // Set by Create: this request was built here, so once sent it may be reused (see Recycle).
    private bool _built;

    private CallRequest(ulong interfaceId, ushort methodId)
    {
        InterfaceId = interfaceId;
        MethodId = methodId;
    }

    public ulong InterfaceId { get; private set; }

    public ushort MethodId { get; private set; }

    public bool IsInbound => _inboundCapabilities is not null;

    /// <summary>
    /// Where a local server's handler for this request starts: the handler queue of the connection that
    /// delivers it (its reader must not run user code), or null to start it on the caller's thread (a
    /// call made in this process, or a connection in <see cref="RpcHandlerExecution.Inline"/> mode).
    /// </summary>
    public HandlerQueue? Handlers { get; set; }

    /// <summary>The rules of the connection that delivered this request, checked before a local server runs it; null for calls made in this process.</summary>
    public CapnpAuthorization? Authorization { get; private init; }

    /// <summary>Where the parameters are written (requests built here only).</summary>
    public PointerBuilder ParamsBuilder => _builder is not null ? _content : throw new InvalidOperationException("The request's parameters can no longer be written.");

    /// <summary>The parameters, wherever they live.</summary>
    public PointerReader Params
    {
        get
        {
            if (Volatile.Read(ref _released) != 0)
            {
                throw new ObjectDisposedException(nameof(CallRequest), "The call's parameters were released.");
            }

            return _builder is not null ? _content.AsReader() : _inboundContent;
        }
    }

    /// <summary>
    /// The request is about to be handled by a local server: from now on, typed proxies read from its
    /// parameters are lent to the call (see <see cref="Lend"/>).
    /// </summary>
    public void BeginDispatch()
    {
        if (Volatile.Read(ref _released) == 0 && Params.Message is { } message)
        {
            message.LendingCall = this;
        }
    }

    /// <summary>Lends <paramref name="capability"/>, read from the parameters as a <paramref name="service"/>, to the call until it returns.</summary>
    public void Lend(Capability capability, Type service)
    {
        var scope = Volatile.Read(ref _lent);
        if (scope is null)
        {
            var created = new ParamsScope(InterfaceId, MethodId);
            scope = Interlocked.CompareExchange(ref _lent, created, null) ?? created;
        }

        scope.Lend(capability, service);
        if (Volatile.Read(ref _released) != 0)
        {
            // Read after the parameters were released (a racing early ReleaseParams): nothing lends it any more.
            scope.End();
        }
    }

    public static CallRequest Create(ulong interfaceId, ushort methodId)
    {
        var request = t_spare;
        if (request is null)
        {
            request = new CallRequest(interfaceId, methodId);
        }
        else
        {
            t_spare = null;
            request.InterfaceId = interfaceId;
            request.MethodId = methodId;
        }

        request._built = true;
        (request._builder, request._call, request._payload, request._content) = NewCallMessage(interfaceId, methodId);
        return request;
    }

    public static CallRequest FromInbound(ulong interfaceId, ushort methodId, PointerReader content, Capability?[] capabilities, HandlerQueue? handlers, CapnpAuthorization? authorization, CapnpConnection origin) =>
        new(interfaceId, methodId) { _inboundContent = content, _inboundCapabilities = capabilities, Handlers = handlers, Authorization = authorization, Origin = origin };

    /// <summary>The connection that delivered this request; null for calls made in this process.</summary>
    public CapnpConnection? Origin { get; private init; }

    /// <summary>The size of parameters built here, in bytes (what a stream's window counts); 0 once sent.</summary>
    public long BuiltBytes => (_builder?.TotalWords ?? 0) * 8;

    /// <summary>
    /// Hands the request to a connection as a <c>Message.call</c> to fill in (question id, target,
    /// capability table) and send. Inbound parameters are copied into a new message here.
    /// </summary>
    public (CapnpMessageBuilder Builder, StructBuilder Call, StructBuilder Payload) TakeForSending()
    {
        if (_builder is { } builder)
        {
            _builder = null;
            Volatile.Write(ref _released, 1);
            return (builder, _call, _payload);
        }

        var (copy, call, payload, content) = NewCallMessage(InterfaceId, MethodId);
        try
        {
            content.CopyFrom(Params);
        }
        catch
        {
            copy.Dispose();
            throw;
        }
        finally
        {
            ReleaseParams();
        }

        return (copy, call, payload);
    }

    /// <summary>
    /// The connection has framed this request's message (after <see cref="TakeForSending"/>), and the
    /// request reached it from whoever built it, each letting go as it passed it on: a request built
    /// here is reset and kept for this thread's next <see cref="Create"/>. Inbound requests are left alone.
    /// </summary>
    public void Recycle()
    {
        if (!_built || _builder is not null || Volatile.Read(ref _released) == 0 || _lent is not null)
        {
            return;
        }

        _built = false;
        _call = default;
        _payload = default;
        _content = default;
        Handlers = null;
        _released = 0;
        t_spare = this;
    }

    /// <summary>Drops the parameters and the capability references they hold. Idempotent.</summary>
    public void ReleaseParams()
    {
        if (Interlocked.Exchange(ref _released, 1) != 0)
        {
            return;
        }

        Volatile.Read(ref _lent)?.End();
        _builder?.Dispose();
        _builder = null;
        if (_inboundCapabilities is not null)
        {
            foreach (var capability in _inboundCapabilities)
            {
                capability?.Dispose();
            }
        }
    }

    private static (CapnpMessageBuilder, StructBuilder, StructBuilder, PointerBuilder) NewCallMessage(ulong interfaceId, ushort methodId)
    {
        var builder = new CapnpMessageBuilder(firstSegmentWords: 128);
        var message = builder.InitRoot(RpcSchema.Message.DataWords, RpcSchema.Message.Pointers);
        message.WriteUInt16(RpcSchema.Message.Which, RpcSchema.Message.Call);
        var call = message.InitStruct(RpcSchema.Message.Body, RpcSchema.Call.DataWords, RpcSchema.Call.Pointers);
        call.WriteUInt64(RpcSchema.Call.InterfaceId, interfaceId);
        call.WriteUInt16(RpcSchema.Call.MethodId, methodId);
        var payload = call.InitStruct(RpcSchema.Call.Params, RpcSchema.Payload.DataWords, RpcSchema.Payload.Pointers);
        return (builder, call, payload, payload.GetPointer(RpcSchema.Payload.Content));
    }
}
