namespace RpcGen.Security;

/// <summary>
/// A server's authorization rules put together: the server-wide authorizer, one per service, and the
/// policies <c>[RpcAuthorize]</c> names. Built once before the server starts and read-only after, so
/// connections consult it without a lock.
/// </summary>
internal sealed class CallAuthorization
{
    private readonly IRpcAuthorizer? _server;
    private readonly IReadOnlyDictionary<string, IRpcAuthorizer> _policies;
    private readonly Dictionary<ulong, IRpcAuthorizer> _services = new();

    public CallAuthorization(IRpcAuthorizer? server, IReadOnlyDictionary<string, IRpcAuthorizer>? policies)
    {
        _server = server;
        _policies = policies ?? new Dictionary<string, IRpcAuthorizer>();
    }

    /// <summary>Whether any rule exists (when none, connections skip the check).</summary>
    public bool IsEmpty => _server is null && _services.Count == 0 && _policies.Count == 0;

    /// <summary>Adds the authorizer of one service. Call before the server starts.</summary>
    public void AddService(ulong serviceId, IRpcAuthorizer authorizer) => _services[serviceId] = authorizer;

    /// <summary>The reason to deny the call, or null to let it run.</summary>
    public string? Check(RpcMethodInfo method, string peer, RpcPeerIdentity? identity)
    {
        if (_server is null && _services.Count == 0 && method.AuthorizationPolicies.Count == 0)
        {
            return null;
        }

        var context = new RpcAuthorizationContext(method, peer, identity);
        if (_server?.Authorize(context) is { IsAllowed: false } byServer)
        {
            return byServer.Reason ?? "Denied by the server's authorizer.";
        }

        if (_services.TryGetValue(method.Service.Id, out var service) && service.Authorize(context) is { IsAllowed: false } byService)
        {
            return byService.Reason ?? $"Denied by the authorizer of {method.Service.Name}.";
        }

        foreach (var name in method.AuthorizationPolicies)
        {
            if (!_policies.TryGetValue(name, out var policy))
            {
                return $"The authorization policy '{name}' is not registered on the server.";
            }

            if (policy.Authorize(context) is { IsAllowed: false } byPolicy)
            {
                return byPolicy.Reason ?? $"Denied by the authorization policy '{name}'.";
            }
        }

        return null;
    }
}
