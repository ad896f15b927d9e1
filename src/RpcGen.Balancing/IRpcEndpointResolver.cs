namespace RpcGen.Balancing;

/// <summary>
/// Turns a logical service name into the addresses of its replicas (<c>tcp://HOST:PORT</c>, or any
/// address <see cref="RpcGen.Transport.Message.RpcClient.ConnectAsync"/> takes). An
/// <see cref="RpcBalancedClient"/> asks again every <see cref="RpcBalancedClientOptions.ResolveInterval"/>
/// and soon after an endpoint fails.
/// </summary>
public interface IRpcEndpointResolver
{
    /// <summary>A readable name for logs and errors (the logical name resolved).</summary>
    string Name { get; }

    /// <summary>
    /// The replicas' addresses now, in the order the source gives them (pick-first takes the first that
    /// is ready). An empty list means the service has no replica now; a failure throws, and the client
    /// keeps the endpoints it had.
    /// </summary>
    ValueTask<IReadOnlyList<string>> ResolveAsync(CancellationToken cancellationToken);
}
