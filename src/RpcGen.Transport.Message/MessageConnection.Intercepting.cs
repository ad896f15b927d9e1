namespace RpcGen.Transport.Message;

/// <summary>
/// Interceptors. Client ones (<see cref="RpcClientOptions.Interceptors"/>): the calls this side makes to
/// the peer's services run through them, ending here, at the transport; calls to the peer's exported
/// objects (callbacks) are not intercepted. Server ones (<see cref="RpcServerOptions.Interceptors"/>)
/// are run by each <see cref="ServerCall"/>, around the implementation.
/// </summary>
internal sealed partial class MessageConnection : IRpcClientTerminal
{
    /// <summary>The server interceptors, outermost first; null when none are registered. Set before <see cref="Start"/>.</summary>
    public RpcServerInterceptor[]? ServerInterceptors { get; init; }

    /// <summary>The client interceptors, outermost first; null when none are registered (then nothing here runs). Set before <see cref="Start"/>.</summary>
    public RpcClientInterceptor[]? ClientInterceptors { get; init; }

    ValueTask<TResponse> IRpcClientTerminal.InvokeAsync<TRequest, TResponse>(RpcClientCallContext context, TRequest request)
    {
        if (context.Method.Kind == RpcMethodKind.OneWay)
        {
            // A one-way call goes through the same pipeline, as a call whose response is RpcVoid.
            var sent = SendAsync((RpcMethod<TRequest, RpcVoid>)context.Method, request, exportTarget: null, context.HeadersToSend);
            return AsResponse<TResponse>(sent);
        }

        return InvokeAsync((RpcMethod<TRequest, TResponse>)context.Method, request, context.CancellationToken, exportTarget: null, context.HeadersToSend, context);
    }

    /// <summary>Starts a streaming call, after telling the client interceptors (if any); one that throws refuses the call.</summary>
    private StreamingCall<TRequestItem, TResponse> StartInterceptedStreamingCall<TRequest, TRequestItem, TResponse>(
        RpcStreamingMethod<TRequest, TRequestItem, TResponse> method,
        TRequest request,
        IAsyncEnumerable<TRequestItem>? items,
        CancellationToken cancellationToken)
    {
        if (ClientInterceptors is not { } interceptors)
        {
            return StartStreamingCall(method, request, items, cancellationToken, intercepted: null);
        }

        var context = new RpcClientCallContext(method, cancellationToken, interceptors, this);
        try
        {
            context.OnStreamingCallStarting();
            return StartStreamingCall(method, request, items, cancellationToken, context);
        }
        catch (Exception ex) when (ex is RpcException or OperationCanceledException)
        {
            // Refused (by an interceptor or locally) before the call existed: every interceptor still
            // hears how it ended.
            context.OnStreamingCallEnded(ex is RpcException rpc ? rpc.StatusCode : RpcStatusCode.Cancelled, ex);
            throw;
        }
    }

    /// <summary>A one-way call's completion as the pipeline's <see cref="RpcVoid"/> response.</summary>
    private static ValueTask<TResponse> AsResponse<TResponse>(ValueTask sent)
    {
        if (sent.IsCompletedSuccessfully)
        {
            return new ValueTask<TResponse>((TResponse)(object)RpcVoid.Value);
        }

        return AwaitSent(sent);

        static async ValueTask<TResponse> AwaitSent(ValueTask sent)
        {
            await sent.ConfigureAwait(false);
            return (TResponse)(object)RpcVoid.Value;
        }
    }

    /// <summary>The pipeline's <see cref="RpcVoid"/> completion of a one-way call as the channel's plain one.</summary>
    private static ValueTask Sent(ValueTask<RpcVoid> pipeline) =>
        pipeline.IsCompletedSuccessfully ? default : new ValueTask(pipeline.AsTask());
}
