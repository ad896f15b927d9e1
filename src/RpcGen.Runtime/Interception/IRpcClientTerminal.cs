namespace RpcGen;

/// <summary>The end of a client pipeline: the transport that sends the call (<see cref="RpcClientCallContext.Method"/>).</summary>
internal interface IRpcClientTerminal
{
    /// <summary>
    /// Sends the call with the context's headers, and hands the trailers to the context before it
    /// completes. A one-way method completes with <see cref="RpcVoid"/> once the request is handed over.
    /// </summary>
    ValueTask<TResponse> InvokeAsync<TRequest, TResponse>(RpcClientCallContext context, TRequest request);
}
