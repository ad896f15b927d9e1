using System.Diagnostics;
using RpcGen.Serialization;

namespace RpcGen;

/// <summary>
/// A streaming method: a request envelope (the plain parameters), an optional stream of items from the
/// client, and either a stream of items or one response from the server.
/// </summary>
/// <typeparam name="TRequest">The envelope of the non-stream parameters (<see cref="RpcVoid"/> when none).</typeparam>
/// <typeparam name="TRequestItem">The item type the client streams (<see cref="RpcVoid"/> for server streaming).</typeparam>
/// <typeparam name="TResponse">The item type the server streams, or the single response of a client-streaming call.</typeparam>
[DebuggerDisplay("{FullName,nq} #{Id} {Kind}")]
public sealed class RpcStreamingMethod<TRequest, TRequestItem, TResponse> : RpcMethodInfo
{
    /// <summary>Creates a descriptor. Generated code calls this once per method.</summary>
    public RpcStreamingMethod(
        RpcServiceInfo service,
        string name,
        uint id,
        RpcMethodKind kind,
        IRpcFormatter<TRequest> requestFormatter,
        IRpcFormatter<TRequestItem> requestItemFormatter,
        IRpcFormatter<TResponse> responseFormatter)
        : base(service, name, id, kind)
    {
        if (kind is not (RpcMethodKind.ServerStreaming or RpcMethodKind.ClientStreaming or RpcMethodKind.DuplexStreaming))
        {
            throw new ArgumentOutOfRangeException(nameof(kind), kind, "A streaming method is server, client or duplex streaming.");
        }

        RequestFormatter = requestFormatter ?? throw new ArgumentNullException(nameof(requestFormatter));
        RequestItemFormatter = requestItemFormatter ?? throw new ArgumentNullException(nameof(requestItemFormatter));
        ResponseFormatter = responseFormatter ?? throw new ArgumentNullException(nameof(responseFormatter));
    }

    /// <summary>Writes and reads the request envelope.</summary>
    public IRpcFormatter<TRequest> RequestFormatter { get; }

    /// <summary>Writes and reads each item the client streams.</summary>
    public IRpcFormatter<TRequestItem> RequestItemFormatter { get; }

    /// <summary>Writes and reads each item the server streams, or the single response.</summary>
    public IRpcFormatter<TResponse> ResponseFormatter { get; }
}
