namespace RpcGen;

/// <summary>The shared continuations of server pipelines.</summary>
internal static class RpcServerContinuations
{
    public static readonly RpcContinuationCache<RpcServerContinuation> Cache =
        new(index => context => ((IRpcServerPipeline)context).InvokeFrom(index));
}
