namespace RpcGen.Hosting;

/// <summary>Which instance of an implementation serves a call.</summary>
public enum RpcServiceLifetime
{
    /// <summary>
    /// A new dependency-injection scope per call: the implementation and its scoped dependencies
    /// (a <c>DbContext</c>, a unit of work) are resolved for the call and disposed when it ends,
    /// including the whole stream of a streaming call. The default, as in grpc-dotnet.
    /// </summary>
    PerCall,

    /// <summary>One instance, resolved from the root provider once, serves every call; it must be thread-safe.</summary>
    Singleton,
}
