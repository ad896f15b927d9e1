namespace RpcGen.Security;

/// <summary>
/// Decides whether a call may run. A server consults its authorizers (server-wide, then the
/// service's, then the <c>[RpcAuthorize]</c> policies of the method) before the implementation
/// runs; the first that denies fails the call with <see cref="RpcStatusCode.PermissionDenied"/>
/// and its reason. Runs on the connection's reader, synchronously: keep it quick and non-blocking
/// (look the peer up in memory, not in a database).
/// </summary>
public interface IRpcAuthorizer
{
    /// <summary>Allows or denies the call <paramref name="context"/> describes.</summary>
    RpcAuthorizationResult Authorize(RpcAuthorizationContext context);
}

/// <summary>The call an <see cref="IRpcAuthorizer"/> decides on.</summary>
/// <param name="Method">The method called (its <see cref="RpcMethodInfo.Service"/> is the service).</param>
/// <param name="Peer">The caller's address, as <see cref="RpcCallContext.Peer"/>.</param>
/// <param name="PeerIdentity">Who the caller is, as <see cref="RpcCallContext.PeerIdentity"/>; null when the link cannot tell.</param>
public sealed record RpcAuthorizationContext(RpcMethodInfo Method, string Peer, RpcPeerIdentity? PeerIdentity);

/// <summary>An authorizer's answer.</summary>
public readonly record struct RpcAuthorizationResult
{
    private RpcAuthorizationResult(bool allowed, string? reason)
    {
        IsAllowed = allowed;
        Reason = reason;
    }

    /// <summary>Lets the call run.</summary>
    public static RpcAuthorizationResult Allow => new(true, null);

    /// <summary>Whether the call may run.</summary>
    public bool IsAllowed { get; }

    /// <summary>Why the call was denied (sent to the caller); null when allowed.</summary>
    public string? Reason { get; }

    /// <summary>Refuses the call, telling the caller <paramref name="reason"/>.</summary>
    public static RpcAuthorizationResult Deny(string reason) => new(false, reason);
}

/// <summary>Makes an <see cref="IRpcAuthorizer"/> of a function.</summary>
public static class RpcAuthorizer
{
    /// <summary>An authorizer that allows a call when <paramref name="allow"/> returns true, and otherwise denies it saying <paramref name="reason"/>.</summary>
    public static IRpcAuthorizer From(Func<RpcAuthorizationContext, bool> allow, string reason = "The caller is not authorized for this call.")
    {
        ArgumentNullException.ThrowIfNull(allow);
        return new FuncAuthorizer(context => allow(context) ? RpcAuthorizationResult.Allow : RpcAuthorizationResult.Deny(reason));
    }

    /// <summary>An authorizer that returns what <paramref name="authorize"/> decides.</summary>
    public static IRpcAuthorizer From(Func<RpcAuthorizationContext, RpcAuthorizationResult> authorize)
    {
        ArgumentNullException.ThrowIfNull(authorize);
        return new FuncAuthorizer(authorize);
    }

    private sealed class FuncAuthorizer(Func<RpcAuthorizationContext, RpcAuthorizationResult> authorize) : IRpcAuthorizer
    {
        public RpcAuthorizationResult Authorize(RpcAuthorizationContext context) => authorize(context);
    }
}
