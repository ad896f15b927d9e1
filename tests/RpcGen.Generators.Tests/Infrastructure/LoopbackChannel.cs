using System.Buffers;
using System.Runtime.CompilerServices;
using RpcGen.Serialization;

namespace RpcGen.Generators.Tests.Infrastructure;

/// <summary>
/// An <see cref="IRpcChannel"/> without a transport: it serializes each request, hands the bytes to
/// a dispatcher and deserializes the response bytes, so a generated proxy and dispatcher talk
/// through exactly what would go on the wire. With capability tables, the caller's side writes
/// requests and reads responses under <paramref name="client"/> and the dispatcher's side the reverse
/// under <paramref name="server"/>, as a transport would, so services can be passed by reference.
/// </summary>
internal sealed class LoopbackChannel(IRpcDispatcher dispatcher, IRpcCapabilityTable? client = null, IRpcCapabilityTable? server = null) : IRpcChannel
{
    /// <summary>One-way calls dispatched so far, with the task the dispatcher returned.</summary>
    public List<ValueTask> OneWayCompletions { get; } = [];

    public async ValueTask<TResponse> InvokeAsync<TRequest, TResponse>(RpcMethod<TRequest, TResponse> method, TRequest request, CancellationToken cancellationToken)
    {
        var call = new LoopbackCall(method, cancellationToken, server);
        await Dispatch(call, Capabilities.Serialize(request, method.RequestFormatter, client));
        return call.ReadResponse(method.ResponseFormatter, client);
    }

    public ValueTask SendAsync<TRequest>(RpcMethod<TRequest, RpcVoid> method, TRequest request)
    {
        var call = new LoopbackCall(method, CancellationToken.None, server);
        OneWayCompletions.Add(Dispatch(call, Capabilities.Serialize(request, method.RequestFormatter, client)));
        return default;
    }

    public IAsyncEnumerable<TResponse> InvokeServerStreaming<TRequest, TResponse>(RpcStreamingMethod<TRequest, RpcVoid, TResponse> method, TRequest request, CancellationToken cancellationToken) =>
        StreamAsync(method, request, null, cancellationToken);

    public async ValueTask<TResponse> InvokeClientStreamingAsync<TRequest, TRequestItem, TResponse>(RpcStreamingMethod<TRequest, TRequestItem, TResponse> method, TRequest request, IAsyncEnumerable<TRequestItem> items, CancellationToken cancellationToken)
    {
        var call = new LoopbackCall(method, cancellationToken, server) { RequestItems = Serialized(items, method.RequestItemFormatter, cancellationToken) };
        await Dispatch(call, Capabilities.Serialize(request, method.RequestFormatter, client));
        return call.ReadResponse(method.ResponseFormatter, client);
    }

    public IAsyncEnumerable<TResponse> InvokeDuplexStreaming<TRequest, TRequestItem, TResponse>(RpcStreamingMethod<TRequest, TRequestItem, TResponse> method, TRequest request, IAsyncEnumerable<TRequestItem> items, CancellationToken cancellationToken) =>
        StreamAsync(method, request, Serialized(items, method.RequestItemFormatter, cancellationToken), cancellationToken);

    // Runs the whole call, then replays the response items it wrote: enough to prove that both
    // sides agree on descriptors, envelopes and item formatters.
    private async IAsyncEnumerable<TResponse> StreamAsync<TRequest, TRequestItem, TResponse>(
        RpcStreamingMethod<TRequest, TRequestItem, TResponse> method,
        TRequest request,
        IAsyncEnumerable<byte[]>? requestItems,
        [EnumeratorCancellation] CancellationToken cancellationToken)
    {
        var call = new LoopbackCall(method, cancellationToken, server) { RequestItems = requestItems };
        await Dispatch(call, Capabilities.Serialize(request, method.RequestFormatter, client));
        foreach (var item in call.ResponseItems)
        {
            yield return Capabilities.Deserialize(item, method.ResponseFormatter, client);
        }

        call.ThrowIfFailed();
    }

    // The dispatcher reads the request before its first await, so the server's table is current for
    // exactly that part (a thread-static scope must not span an await).
    private ValueTask Dispatch(LoopbackCall call, byte[] request)
    {
        using (RpcCapabilityContext.Enter(server))
        {
            return dispatcher.DispatchAsync(call, new ReadOnlySequence<byte>(request));
        }
    }

    private async IAsyncEnumerable<byte[]> Serialized<T>(IAsyncEnumerable<T> items, IRpcFormatter<T> formatter, [EnumeratorCancellation] CancellationToken cancellationToken)
    {
        await foreach (var item in items.WithCancellation(cancellationToken))
        {
            yield return Capabilities.Serialize(item, formatter, client);
        }
    }
}

/// <summary>Serialization under a capability table, as a transport does around each payload.</summary>
internal static class Capabilities
{
    public static byte[] Serialize<T>(T value, IRpcFormatter<T> formatter, IRpcCapabilityTable? table)
    {
        using var scope = RpcCapabilityContext.Enter(table);
        return RpcSerializer.Serialize(value, formatter);
    }

    public static T Deserialize<T>(byte[] payload, IRpcFormatter<T> formatter, IRpcCapabilityTable? table)
    {
        using var scope = RpcCapabilityContext.Enter(table);
        return RpcSerializer.Deserialize(payload, formatter);
    }
}

/// <summary>A server call that keeps the serialized response, or the error, for the loopback channel.</summary>
internal sealed class LoopbackCall : RpcServerCall
{
    private readonly CancellationToken _cancellationToken;
    private readonly IRpcCapabilityTable? _capabilities;
    private byte[]? _response;
    private Exception? _error;

    /// <summary>A call whose server side reads and writes values under <paramref name="capabilities"/>.</summary>
    public LoopbackCall(RpcMethodInfo method, CancellationToken cancellationToken, IRpcCapabilityTable? capabilities = null)
    {
        Method = method;
        _cancellationToken = cancellationToken;
        _capabilities = capabilities;
    }

    public override RpcMethodInfo Method { get; }

    public override string Peer => "loopback";

    public override DateTime? DeadlineUtc => null;

    public override CancellationToken CancellationToken => _cancellationToken;

    /// <summary>The serialized items the client streams, for client and duplex streaming calls.</summary>
    public IAsyncEnumerable<byte[]>? RequestItems { get; init; }

    /// <summary>The serialized items the server streamed.</summary>
    public List<byte[]> ResponseItems { get; } = [];

    public override async IAsyncEnumerable<TItem> GetRequestStream<TItem>(IRpcFormatter<TItem> formatter)
    {
        await foreach (var item in RequestItems ?? throw new InvalidOperationException("The call has no request stream."))
        {
            yield return Capabilities.Deserialize(item, formatter, _capabilities);
        }
    }

    public override async ValueTask CompleteStreamAsync<TItem>(IAsyncEnumerable<TItem> items, IRpcFormatter<TItem> formatter)
    {
        try
        {
            await foreach (var item in items.WithCancellation(CancellationToken))
            {
                // Serialized at once: byte chunks reuse their buffer for the next item.
                ResponseItems.Add(Capabilities.Serialize(item, formatter, _capabilities));
            }
        }
        catch (Exception ex)
        {
            WriteError(ex);
        }
    }

    public void ThrowIfFailed()
    {
        if (_error is not null)
        {
            _ = ReadResponse(Serialization.RpcVoidFormatter.Instance);
        }
    }

    /// <summary>The response, read on the caller's side under <paramref name="capabilities"/>, or the error.</summary>
    public T ReadResponse<T>(IRpcFormatter<T> formatter, IRpcCapabilityTable? capabilities = null)
    {
        if (_error is OperationCanceledException)
        {
            throw new RpcException(RpcStatusCode.Cancelled, _error.Message, _error);
        }

        if (_error is not null)
        {
            throw new RpcException(RpcStatusCode.Failed, _error.Message, _error);
        }

        var response = _response ?? throw new InvalidOperationException("The dispatcher completed without writing a response.");
        return Capabilities.Deserialize(response, formatter, capabilities);
    }

    protected override void WriteResponse<T>(T value, IRpcFormatter<T> formatter) =>
        _response = Capabilities.Serialize(value, formatter, _capabilities);

    protected override void WriteError(Exception exception) => _error = exception;
}
