namespace RpcGen;

/// <summary>A transport's inbound call that runs server interceptors: the context every continuation is handed.</summary>
internal interface IRpcServerPipeline
{
    /// <summary>Runs the pipeline from interceptor <paramref name="index"/> on (the implementation past the last).</summary>
    ValueTask InvokeFrom(int index);
}
