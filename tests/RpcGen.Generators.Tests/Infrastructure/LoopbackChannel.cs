using System.Buffers;
using System.Runtime.CompilerServices;
using RpcGen.Serialization;

namespace RpcGen.Generators.Tests.Infrastructure;

/// <summary>
/// An <see cref="IRpcChannel"/> without a transport: it serializes each request, hands the bytes to
/// a dispatcher and deserializes the response bytes, so a generated proxy and dispatcher talk
/// through exactly what would go on the wire.
/// </summary>
internal sealed class LoopbackChannel(IRpcDispatcher dispatcher) : IRpcChannel
{
    /// <summary>One-way calls dispatched so far, with the task the dispatcher returned.</summary>
    public List<ValueTask> OneWayCompletions { get; } = [];

    public async ValueTask<TResponse> InvokeAsync<TRequest, TResponse>(RpcMethod<TRequest, TResponse> method, TRequest request, CancellationToken cancellationToken)
    {
        var call = new LoopbackCall(method, cancellationToken);
        var payload = new ReadOnlySequence<byte>(RpcSerializer.Serialize(request, method.RequestFormatter));
        await dispatcher.DispatchAsync(call, payload);
        return call.ReadResponse(method.ResponseFormatter);
    }

    public ValueTask SendAsync<TRequest>(RpcMethod<TRequest, RpcVoid> method, TRequest request)
    {
        var call = new LoopbackCall(method, CancellationToken.None);
        var payload = new ReadOnlySequence<byte>(RpcSerializer.Serialize(request, method.RequestFormatter));
        OneWayCompletions.Add(dispatcher.DispatchAsync(call, payload));
        return default;
    }

    public IAsyncEnumerable<TResponse> InvokeServerStreaming<TRequest, TResponse>(RpcStreamingMethod<TRequest, RpcVoid, TResponse> method, TRequest request, CancellationToken cancellationToken) =>
        StreamAsync(method, request, null, cancellationToken);

    public async ValueTask<TResponse> InvokeClientStreamingAsync<TRequest, TRequestItem, TResponse>(RpcStreamingMethod<TRequest, TRequestItem, TResponse> method, TRequest request, IAsyncEnumerable<TRequestItem> items, CancellationToken cancellationToken)
    {
        var call = new LoopbackCall(method, cancellationToken) { RequestItems = Serialized(items, method.RequestItemFormatter, cancellationToken) };
        await dispatcher.DispatchAsync(call, new ReadOnlySequence<byte>(RpcSerializer.Serialize(request, method.RequestFormatter)));
        return call.ReadResponse(method.ResponseFormatter);
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
        var call = new LoopbackCall(method, cancellationToken) { RequestItems = requestItems };
        await dispatcher.DispatchAsync(call, new ReadOnlySequence<byte>(RpcSerializer.Serialize(request, method.RequestFormatter)));
        foreach (var item in call.ResponseItems)
        {
            yield return RpcSerializer.Deserialize(item, method.ResponseFormatter);
        }

        call.ThrowIfFailed();
    }

    private static async IAsyncEnumerable<byte[]> Serialized<T>(IAsyncEnumerable<T> items, IRpcFormatter<T> formatter, [EnumeratorCancellation] CancellationToken cancellationToken)
    {
        await foreach (var item in items.WithCancellation(cancellationToken))
        {
            yield return RpcSerializer.Serialize(item, formatter);
        }
    }
}

/// <summary>A server call that keeps the serialized response, or the error, for the loopback channel.</summary>
internal sealed class LoopbackCall : RpcServerCall
{
    private readonly CancellationToken _cancellationToken;
    private byte[]? _response;
    private Exception? _error;

    public LoopbackCall(RpcMethodInfo method, CancellationToken cancellationToken)
    {
        Method = method;
        _cancellationToken = cancellationToken;
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
            yield return RpcSerializer.Deserialize(item, formatter);
        }
    }

    public override async ValueTask CompleteStreamAsync<TItem>(IAsyncEnumerable<TItem> items, IRpcFormatter<TItem> formatter)
    {
        try
        {
            await foreach (var item in items.WithCancellation(CancellationToken))
            {
                // Serialized at once: byte chunks reuse their buffer for the next item.
                ResponseItems.Add(RpcSerializer.Serialize(item, formatter));
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

    public T ReadResponse<T>(IRpcFormatter<T> formatter)
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
        return RpcSerializer.Deserialize(response, formatter);
    }

    protected override void WriteResponse<T>(T value, IRpcFormatter<T> formatter) =>
        _response = RpcSerializer.Serialize(value, formatter);

    protected override void WriteError(Exception exception) => _error = exception;
}
