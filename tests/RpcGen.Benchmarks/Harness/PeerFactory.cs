using RpcGen.Benchmarks.Peers.Grpc;
using RpcGen.Benchmarks.Peers.JsonRpc;
using RpcGen.Benchmarks.Peers.Raw;
using RpcGen.Benchmarks.Peers.RpcGen;

namespace RpcGen.Benchmarks.Harness;

/// <summary>Starts a server and connects a client of one peer over one link.</summary>
public static class PeerFactory
{
    public static async Task<PeerSession> StartAsync(PeerKind peer, LinkKind link) => peer switch
    {
        PeerKind.Raw => await RawSession.StartAsync(link, RawSendMode.PerMessage).ConfigureAwait(false),
        PeerKind.RawCoalesced => await RawSession.StartAsync(link, RawSendMode.Coalesced).ConfigureAwait(false),
        PeerKind.RpcGen => await RpcGenSession.StartAsync(link).ConfigureAwait(false),
        PeerKind.RpcGenInline => await RpcGenSession.StartAsync(link, RpcHandlerExecution.Inline).ConfigureAwait(false),
        PeerKind.RpcGenTls or PeerKind.RpcGenTlsPsk => await RpcGenSession.StartAsync(peer, link).ConfigureAwait(false),
        PeerKind.Grpc => await GrpcSession.StartAsync(link).ConfigureAwait(false),
        PeerKind.GrpcTls => await GrpcSession.StartAsync(link, tls: true).ConfigureAwait(false),
        PeerKind.StreamJsonRpc => await JsonRpcSession.StartAsync(link).ConfigureAwait(false),
        _ => throw new ArgumentOutOfRangeException(nameof(peer)),
    };
}
