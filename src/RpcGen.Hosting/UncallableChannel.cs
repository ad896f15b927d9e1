namespace RpcGen.Hosting;

/// <summary>The channel behind a proxy that only stands in for an implementation and must never be called.</summary>
internal sealed class UncallableChannel : IRpcChannel
{
    public static readonly UncallableChannel Instance = new();

    public ValueTask<TResponse> InvokeAsync<TRequest, TResponse>(RpcMethod<TRequest, TResponse> method, TRequest request, CancellationToken cancellationToken) =>
        throw new InvalidOperationException("This proxy only stands in for an implementation.");

    public ValueTask SendAsync<TRequest>(RpcMethod<TRequest, RpcVoid> method, TRequest request) =>
        throw new InvalidOperationException("This proxy only stands in for an implementation.");
}
