using Microsoft.Extensions.Logging.Abstractions;
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
    private readonly MessageConnection _connection;

    private RpcClient(MessageConnection connection) => _connection = connection;

    /// <summary>The server's address.</summary>
    public string RemoteAddress => _connection.Peer;

    /// <summary>Completes when the connection has closed; <see cref="CloseReason"/> then says why.</summary>
    public Task Completion => _connection.Completion;

    /// <summary>Why the connection closed, or null while it is open.</summary>
    public RpcException? CloseReason => _connection.CloseReason;

    /// <summary>Connects to a server at <paramref name="address"/> (<c>tcp://HOST:PORT</c>, <c>unix:PATH</c> or <c>memory:NAME</c>).</summary>
    /// <exception cref="RpcException">With <see cref="RpcStatusCode.Disconnected"/> when nothing listens there.</exception>
    public static async Task<RpcClient> ConnectAsync(string address, RpcClientOptions? options = null, CancellationToken cancellationToken = default)
    {
        options ??= new RpcClientOptions();
        options.Limits.Validate();
        var link = await RpcLinks.ConnectAsync(address, options.Limits, cancellationToken).ConfigureAwait(false);
        return Create(link, options);
    }

    /// <summary>Runs the client side of the protocol over a link that is already open (for example one end of <see cref="RpcLinks.CreateMemoryPair"/>).</summary>
    public static RpcClient Create(RpcLink link, RpcClientOptions? options = null)
    {
        ArgumentNullException.ThrowIfNull(link);
        options ??= new RpcClientOptions();
        var logger = options.LoggerFactory?.CreateLogger("RpcGen.Client") ?? NullLogger.Instance;
        var connection = new MessageConnection(link, options.Limits, logger, dispatchers: null, options.DefaultTimeout, onClosed: null, options.Compression, options.CompressionThresholdBytes, handlerExecution: options.HandlerExecution);
        connection.Start();
        connection.SendHello();
        return new RpcClient(connection);
    }

    /// <summary>Creates a proxy for the <c>[RpcService]</c> interface <typeparamref name="TService"/>.</summary>
    public TService GetService<TService>()
        where TService : class => RpcServiceRegistry.CreateProxy<TService>(this);

    /// <inheritdoc />
    public ValueTask<TResponse> InvokeAsync<TRequest, TResponse>(RpcMethod<TRequest, TResponse> method, TRequest request, CancellationToken cancellationToken) =>
        _connection.InvokeAsync(method, request, cancellationToken);

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

    /// <summary>Closes the connection; calls still waiting fail with <see cref="RpcStatusCode.Disconnected"/>.</summary>
    public ValueTask DisposeAsync() => _connection.DisposeAsync();
}
