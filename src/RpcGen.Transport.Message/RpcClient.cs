using RpcGen.Links;

namespace RpcGen.Transport.Message;

/// <summary>
/// A client connection of the message transport. Get a typed proxy with
/// <see cref="GetService{TService}"/>; many calls may run at once and complete in any order.
/// </summary>
/// <example>
/// <code>
/// await using var client = await RpcClient.ConnectAsync("tcp://127.0.0.1:5000");
/// var greeter = client.GetService&lt;IGreeter&gt;();
/// var reply = await greeter.SayHelloAsync(new HelloRequest("Ada", 1));
/// </code>
/// </example>
public sealed class RpcClient : IRpcChannel, IAsyncDisposable
{
    // The current connection, and the reconnect loop when the client reconnects.
    private readonly ClientSession _connection;

    private RpcClient(ClientSession connection) => _connection = connection;

    /// <summary>Whether a call made now goes out at once (Ready, and the server has not said it is going away); read by balancers.</summary>
    internal bool AcceptsCalls => _connection.AcceptsCalls;

    /// <summary>The server's address.</summary>
    public string RemoteAddress => _connection.Peer;

    /// <summary>
    /// Completes when the client is finished: its connection closed and it does not reconnect, or it
    /// was disposed; <see cref="CloseReason"/> then says why.
    /// </summary>
    public Task Completion => _connection.Completion;

    /// <summary>Why the connection closed (or, while a reconnecting client is disconnected, why it is), or null while it is open.</summary>
    public RpcException? CloseReason => _connection.CloseReason;

    /// <summary>
    /// Connects to a server at <paramref name="address"/> (<c>tcp://HOST:PORT</c>, <c>unix:PATH</c> or
    /// <c>memory:NAME</c>) and completes the hello exchange; returns once the server's hello arrived.
    /// </summary>
    /// <exception cref="RpcException">
    /// With <see cref="RpcStatusCode.Disconnected"/>, naming the address, when nothing listens there, the
    /// Unix socket file does not exist, or nothing answered within <see cref="RpcClientOptions.ConnectTimeout"/>;
    /// with <see cref="RpcStatusCode.ProtocolError"/> when the server speaks another protocol version.
    /// </exception>
    public static async Task<RpcClient> ConnectAsync(string address, RpcClientOptions? options = null, CancellationToken cancellationToken = default)
    {
        options ??= new RpcClientOptions();
        options.ValidateConnection();
        return new RpcClient(await ClientSession.ConnectAsync(address, options, cancellationToken).ConfigureAwait(false));
    }

    /// <summary>
    /// Runs the client side of the protocol over a link that is already open (for example one end of
    /// <see cref="RpcLinks.CreateMemoryPair"/>). Returns at once: the hello exchange completes in the
    /// background, and calls made meanwhile follow the hello. Such a client cannot reconnect.
    /// </summary>
    public static RpcClient Create(RpcLink link, RpcClientOptions? options = null)
    {
        ArgumentNullException.ThrowIfNull(link);
        options ??= new RpcClientOptions();
        options.ValidateConnection();
        return new RpcClient(ClientSession.Create(link, options));
    }

    /// <summary>Creates a proxy for the <c>[RpcService]</c> interface <typeparamref name="TService"/>.</summary>
    public TService GetService<TService>()
        where TService : class => RpcServiceRegistry.CreateProxy<TService>(this);

    /// <inheritdoc />
    public ValueTask<TResponse> InvokeAsync<TRequest, TResponse>(RpcMethod<TRequest, TResponse> method, TRequest request, CancellationToken cancellationToken) =>
        _connection.InvokeAsync(method, request, cancellationToken);

    /// <inheritdoc />
    public ValueTask InvokeVoidAsync<TRequest>(RpcMethod<TRequest, RpcVoid> method, TRequest request, CancellationToken cancellationToken) =>
        _connection.InvokeVoidAsync(method, request, cancellationToken);

    /// <inheritdoc />
    public ValueTask SendAsync<TRequest>(RpcMethod<TRequest, RpcVoid> method, TRequest request) =>
        _connection.SendAsync(method, request);

    /// <inheritdoc />
    public IAsyncEnumerable<TResponse> InvokeServerStreaming<TRequest, TResponse>(RpcStreamingMethod<TRequest, RpcVoid, TResponse> method, TRequest request, CancellationToken cancellationToken) =>
        _connection.InvokeServerStreaming(method, request, cancellationToken);

    /// <inheritdoc />
    public ValueTask<TResponse> InvokeClientStreamingAsync<TRequest, TRequestItem, TResponse>(RpcStreamingMethod<TRequest, TRequestItem, TResponse> method, TRequest request, IAsyncEnumerable<TRequestItem> items, CancellationToken cancellationToken) =>
        _connection.InvokeClientStreamingAsync(method, request, items, cancellationToken);

    /// <inheritdoc />
    public IAsyncEnumerable<TResponse> InvokeDuplexStreaming<TRequest, TRequestItem, TResponse>(RpcStreamingMethod<TRequest, TRequestItem, TResponse> method, TRequest request, IAsyncEnumerable<TRequestItem> items, CancellationToken cancellationToken) =>
        _connection.InvokeDuplexStreaming(method, request, items, cancellationToken);

    /// <summary>Closes the connection (and stops reconnecting); calls still waiting fail with <see cref="RpcStatusCode.Disconnected"/>.</summary>
    public ValueTask DisposeAsync() => _connection.DisposeAsync();

    /// <summary>The connection's state now (see <see cref="RpcClientOptions.Reconnect"/> for how it changes).</summary>
    public RpcConnectionState State => _connection.States.State;

    /// <summary>Raised after each change of <see cref="State"/>, on the thread that made it; keep handlers short.</summary>
    public event Action<RpcConnectionState>? StateChanged
    {
        add => _connection.States.Changed += value;
        remove => _connection.States.Changed -= value;
    }

    /// <summary>
    /// The current state, then each change in order, until <see cref="RpcConnectionState.Shutdown"/>
    /// (the last item) or until <paramref name="cancellationToken"/> is cancelled.
    /// </summary>
    public IAsyncEnumerable<RpcConnectionState> WatchStateAsync(CancellationToken cancellationToken = default) =>
        _connection.States.WatchAsync(cancellationToken);

    /// <summary>
    /// The last measured round-trip time to the server: from the hello exchange, then from each
    /// keepalive ping (<see cref="RpcClientOptions.KeepAliveInterval"/>); null before the first.
    /// </summary>
    public TimeSpan? RoundTripTime => _connection.RoundTripTime;
}
