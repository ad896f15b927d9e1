using System.Diagnostics;
using RpcGen.Serialization;

namespace RpcGen;

/// <summary>Describes one method of a service: its name, ordinal and call shape.</summary>
public abstract class RpcMethodInfo
{
    private protected RpcMethodInfo(RpcServiceInfo service, string name, uint id, RpcMethodKind kind)
    {
        ArgumentNullException.ThrowIfNull(service);
        ArgumentException.ThrowIfNullOrEmpty(name);
        Service = service;
        Name = name;
        Id = id;
        Kind = kind;
        FullName = service.Name + "/" + name;
        Tags =
        [
            new("rpc.system", "rpcgen"),
            new("rpc.service", service.Name),
            new("rpc.method", name),
        ];
    }

    /// <summary>The service the method belongs to.</summary>
    public RpcServiceInfo Service { get; }

    /// <summary>The method name as declared in the contract.</summary>
    public string Name { get; }

    /// <summary>The method's ordinal on the wire.</summary>
    public uint Id { get; }

    /// <summary>The call shape.</summary>
    public RpcMethodKind Kind { get; }

    /// <summary><c>Service/Method</c>, used for activity names and logs.</summary>
    public string FullName { get; }

    /// <summary>
    /// Whether the method is marked <c>[Idempotent]</c>: a call in flight on a connection that dropped
    /// may be re-sent, once, on the next connection.
    /// </summary>
    public bool IsIdempotent { get; init; }

    /// <summary>
    /// The policies a call must pass before the implementation runs, from <c>[RpcAuthorize]</c> on the
    /// service interface and then on the method; empty when there are none.
    /// </summary>
    public IReadOnlyList<string> AuthorizationPolicies { get; init; } = [];

    /// <summary>The OpenTelemetry RPC attributes for this method, computed once.</summary>
    internal KeyValuePair<string, object?>[] Tags { get; }

    /// <inheritdoc />
    public override string ToString() => FullName;
}

/// <summary>A method descriptor with the formatters for its request and response envelopes.</summary>
/// <typeparam name="TRequest">The request envelope (the parameters, minus the cancellation token).</typeparam>
/// <typeparam name="TResponse">The response (the result, or <see cref="RpcVoid"/>).</typeparam>
[DebuggerDisplay("{FullName,nq} #{Id}")]
public sealed class RpcMethod<TRequest, TResponse> : RpcMethodInfo
{
    /// <summary>Creates a descriptor. Generated code calls this once per method.</summary>
    public RpcMethod(
        RpcServiceInfo service,
        string name,
        uint id,
        RpcMethodKind kind,
        IRpcFormatter<TRequest> requestFormatter,
        IRpcFormatter<TResponse> responseFormatter)
        : base(service, name, id, kind)
    {
        RequestFormatter = requestFormatter ?? throw new ArgumentNullException(nameof(requestFormatter));
        ResponseFormatter = responseFormatter ?? throw new ArgumentNullException(nameof(responseFormatter));
    }

    /// <summary>Writes and reads the request envelope.</summary>
    public IRpcFormatter<TRequest> RequestFormatter { get; }

    /// <summary>Writes and reads the response.</summary>
    public IRpcFormatter<TResponse> ResponseFormatter { get; }
}
