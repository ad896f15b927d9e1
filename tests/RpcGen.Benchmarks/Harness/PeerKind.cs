namespace RpcGen.Benchmarks.Harness;

/// <summary>The implementations compared.</summary>
public enum PeerKind
{
    /// <summary>Hand-written length-prefixed request/response, one send per frame: the floor.</summary>
    Raw,

    /// <summary>The same floor with coalesced sends (the fair floor for many concurrent callers).</summary>
    RawCoalesced,

    /// <summary>RpcGen's message transport with generated proxy and dispatcher.</summary>
    RpcGen,

    /// <summary>
    /// RpcGen with <see cref="RpcHandlerExecution.Inline"/> on both sides: the handler runs on the
    /// connection's reader. Measured beside <see cref="RpcGen"/> to show what the safe thread-pool
    /// hop costs.
    /// </summary>
    RpcGenInline,

    /// <summary><see cref="RpcGen"/> over mutual TLS 1.3 (<c>tls://</c>, <c>tls+unix:</c>) with certificates generated at start-up.</summary>
    RpcGenTls,

    /// <summary><see cref="RpcGenTls"/> with the pre-shared-key layer (<c>RpcPskLayer</c>) inside TLS.</summary>
    RpcGenTlsPsk,

    /// <summary>grpc-dotnet: Grpc.AspNetCore on Kestrel (h2c) and Grpc.Net.Client.</summary>
    Grpc,

    /// <summary>grpc-dotnet over HTTPS (TLS 1.3, mutual authentication against the benchmark CA): the TLS peer for RpcGen over TLS.</summary>
    GrpcTls,

    /// <summary>StreamJsonRpc with its MessagePack formatter over a socket stream.</summary>
    StreamJsonRpc,
}

/// <summary>Display names for <see cref="PeerKind"/>.</summary>
public static class PeerNames
{
    public static string Display(this PeerKind peer) => peer switch
    {
        PeerKind.Raw => "raw floor",
        PeerKind.RawCoalesced => "raw floor (coalesced)",
        PeerKind.RpcGen => "RpcGen",
        PeerKind.RpcGenInline => "RpcGen (inline handlers)",
        PeerKind.RpcGenTls => "RpcGen over TLS 1.3",
        PeerKind.RpcGenTlsPsk => "RpcGen over TLS 1.3 + PSK",
        PeerKind.Grpc => "grpc-dotnet",
        PeerKind.GrpcTls => "grpc-dotnet over TLS 1.3",
        PeerKind.StreamJsonRpc => "StreamJsonRpc",
        _ => peer.ToString(),
    };
}
