namespace RpcGen;

/// <summary>Takes the trailers a call got back; transports call it before the call completes.</summary>
internal interface IRpcTrailerSink
{
    /// <summary>Records the call's trailers; null when the server sent none.</summary>
    void SetTrailers(RpcMetadata? trailers);
}
