namespace RpcGen;

/// <summary>
/// What a generated proxy calls: sends a request and completes with the response. Every transport
/// connection implements it.
/// </summary>
public interface IRpcChannel
{
    /// <summary>
    /// Sends a two-way call and completes with its response. Fails with <see cref="RpcException"/>
    /// when the call fails, or <see cref="OperationCanceledException"/> when
    /// <paramref name="cancellationToken"/> fires (the server's token fires too).
    /// </summary>
    ValueTask<TResponse> InvokeAsync<TRequest, TResponse>(
        RpcMethod<TRequest, TResponse> method,
        TRequest request,
        CancellationToken cancellationToken);

    /// <summary>
    /// Sends a one-way call. Completes when the request is handed to the transport; the server's
    /// outcome is never reported back.
    /// </summary>
    ValueTask SendAsync<TRequest>(RpcMethod<TRequest, RpcVoid> method, TRequest request);
}
