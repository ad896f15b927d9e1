using System.Buffers;
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
