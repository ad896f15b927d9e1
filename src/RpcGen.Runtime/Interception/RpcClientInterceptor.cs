namespace RpcGen;

/// <summary>
/// Client middleware: sees every call an <c>RpcClient</c> makes, in the order interceptors were
/// registered (the first registered is the outermost). Override what you need; the defaults pass
/// calls through unchanged.
/// </summary>
/// <remarks>
/// <para>Two-way and one-way calls go through <see cref="InterceptAsync{TRequest, TResponse}"/> (a one-way
/// call's response is <see cref="RpcVoid"/>, and it completes once the request is handed to the
/// transport). An interceptor may change <see cref="RpcClientCallContext.RequestHeaders"/> or the request,
/// refuse the call by throwing (usually an <see cref="RpcException"/>) without calling <c>next</c>, call
/// <c>next</c> again to retry, and observe the outcome: <c>next</c> returns the response or throws what
/// the call failed with, and <see cref="RpcClientCallContext.Elapsed"/> gives the duration.</para>
/// <para>Streaming calls are not wrapped (their items flow long after the call started):
/// <see cref="OnStreamingCallStarting"/> runs before the request is sent and may change headers or refuse
/// the call, and <see cref="OnStreamingCallEnded"/> reports how the call ended, on the thread pool.</para>
/// <para>Calls the client's callback objects receive are not intercepted. With no interceptor
/// registered none of this runs and nothing is allocated.</para>
/// </remarks>
/// <example>
/// <code>
/// sealed class Auth(string token) : RpcClientInterceptor
/// {
///     public override ValueTask&lt;TResponse&gt; InterceptAsync&lt;TRequest, TResponse&gt;(RpcClientCallContext context, TRequest request, RpcClientContinuation&lt;TRequest, TResponse&gt; next)
///     {
///         context.RequestHeaders.Set("authorization", token);
///         return next(context, request);
///     }
/// }
/// </code>
/// </example>
public abstract class RpcClientInterceptor
{
    /// <summary>Wraps a two-way or one-way call; call <paramref name="next"/> to go on to the next interceptor and finally the transport.</summary>
    public virtual ValueTask<TResponse> InterceptAsync<TRequest, TResponse>(RpcClientCallContext context, TRequest request, RpcClientContinuation<TRequest, TResponse> next) =>
        next(context, request);

    /// <summary>Runs before a streaming call's request is sent; may change headers, or throw an <see cref="RpcException"/> to refuse the call (every interceptor then hears it ended with that status).</summary>
    public virtual void OnStreamingCallStarting(RpcClientCallContext context)
    {
    }

    /// <summary>
    /// Reports how a streaming call ended (<see cref="RpcStatusCode.Ok"/> with a null exception when it
    /// succeeded), on the thread pool, in reverse registration order. Exceptions it throws are ignored.
    /// </summary>
    public virtual void OnStreamingCallEnded(RpcClientCallContext context, RpcStatusCode status, Exception? exception)
    {
    }
}

/// <summary>The rest of a client call's pipeline: the next interceptor, or the transport.</summary>
public delegate ValueTask<TResponse> RpcClientContinuation<TRequest, TResponse>(RpcClientCallContext context, TRequest request);
