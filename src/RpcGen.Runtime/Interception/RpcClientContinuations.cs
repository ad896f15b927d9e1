namespace RpcGen;

/// <summary>The shared continuations of client pipelines for one call shape.</summary>
internal static class RpcClientContinuations<TRequest, TResponse>
{
    public static readonly RpcContinuationCache<RpcClientContinuation<TRequest, TResponse>> Cache =
        new(index => (context, request) => context.InvokeFrom<TRequest, TResponse>(index, request));
}
