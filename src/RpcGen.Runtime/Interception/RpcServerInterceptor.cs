namespace RpcGen;

/// <summary>
/// Server middleware: runs around every call a server serves, in the order interceptors were
/// registered (the first registered is the outermost), on the thread the implementation runs on, with
/// <see cref="RpcCallContext.Current"/> and the call's span already set.
/// </summary>
/// <remarks>
/// <para>An interceptor may read or change <see cref="RpcCallContext.RequestHeaders"/> before calling
/// <c>next</c>, add <see cref="RpcCallContext.ResponseTrailers"/> before or after it (the
/// answer is held until the outermost interceptor returns), refuse the call by throwing an
/// <see cref="RpcException"/> without calling <c>next</c> (the implementation never runs), and observe the
/// outcome: <c>next</c> completes when the implementation has, and throws an <see cref="RpcException"/>
/// when it failed (its <see cref="RpcException.StatusCode"/> is what the caller gets; a non-RPC exception
/// the implementation threw is its <see cref="Exception.InnerException"/>). Throwing replaces the answer
/// with that error. <c>next</c> runs the implementation once; calling it again throws.</para>
/// <para>Streaming calls run through the same pipeline: <c>next</c> completes when the response stream
/// has ended (or, for client streaming, when the response is ready); the stream's items go to the caller
/// as they are produced and are not held, so trailers can only travel with a single response or an
/// error, not after a response stream. A failed response stream makes <c>next</c> throw after the
/// caller was already told.</para>
/// <para>With no interceptor registered none of this runs and nothing is allocated.</para>
/// </remarks>
/// <example>
/// <code>
/// sealed class RequireTenant : RpcServerInterceptor
/// {
///     public override ValueTask InterceptAsync(RpcCallContext context, RpcServerContinuation next) =>
///         context.RequestHeaders.GetString("tenant") is null
///             ? throw new RpcException(RpcStatusCode.Failed, "No tenant given.")
///             : next(context);
/// }
/// </code>
/// </example>
public abstract class RpcServerInterceptor
{
    /// <summary>Wraps one inbound call; call <paramref name="next"/> to go on to the next interceptor and finally the implementation.</summary>
    public abstract ValueTask InterceptAsync(RpcCallContext context, RpcServerContinuation next);
}

/// <summary>The rest of a server call's pipeline: the next interceptor, or the implementation.</summary>
public delegate ValueTask RpcServerContinuation(RpcCallContext context);
