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
    /// Sends a two-way call whose result is <see cref="RpcVoid"/> and completes when the answer comes,
    /// as <see cref="InvokeAsync{TRequest, TResponse}"/> does. Generated proxies call it for methods that
    /// return <see cref="ValueTask"/>; a transport overrides it to complete the <see cref="ValueTask"/>
    /// from its own pending call instead of adapting a <see cref="ValueTask{TResult}"/> (which takes a
    /// <see cref="Task"/> per call that does not complete at once).
    /// </summary>
    ValueTask InvokeVoidAsync<TRequest>(RpcMethod<TRequest, RpcVoid> method, TRequest request, CancellationToken cancellationToken) =>
        RpcTasks.AsValueTask(InvokeAsync(method, request, cancellationToken));

    /// <summary>
    /// Sends a one-way call. Completes when the request is handed to the transport; the server's
    /// outcome is never reported back.
    /// </summary>
    ValueTask SendAsync<TRequest>(RpcMethod<TRequest, RpcVoid> method, TRequest request);

    /// <summary>
    /// Calls a server-streaming method. The request is sent when enumeration starts; items arrive
    /// under flow control; disposing the enumerator early (leaving <c>await foreach</c>) cancels the
    /// call on the server. A server failure surfaces as <see cref="RpcException"/> after the items
    /// sent before it.
    /// </summary>
    IAsyncEnumerable<TResponse> InvokeServerStreaming<TRequest, TResponse>(
        RpcStreamingMethod<TRequest, RpcVoid, TResponse> method,
        TRequest request,
        CancellationToken cancellationToken) =>
        throw new NotSupportedException($"{GetType().Name} does not support streaming calls.");

    /// <summary>
    /// Calls a client-streaming method: sends the request, then <paramref name="items"/> as the server
    /// grants credit, and completes with the server's response.
    /// </summary>
    ValueTask<TResponse> InvokeClientStreamingAsync<TRequest, TRequestItem, TResponse>(
        RpcStreamingMethod<TRequest, TRequestItem, TResponse> method,
        TRequest request,
        IAsyncEnumerable<TRequestItem> items,
        CancellationToken cancellationToken) =>
        throw new NotSupportedException($"{GetType().Name} does not support streaming calls.");

    /// <summary>Calls a duplex-streaming method: both sides stream at once, each under the other's flow control.</summary>
    IAsyncEnumerable<TResponse> InvokeDuplexStreaming<TRequest, TRequestItem, TResponse>(
        RpcStreamingMethod<TRequest, TRequestItem, TResponse> method,
        TRequest request,
        IAsyncEnumerable<TRequestItem> items,
        CancellationToken cancellationToken) =>
        throw new NotSupportedException($"{GetType().Name} does not support streaming calls.");
}
