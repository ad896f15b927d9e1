using System;

namespace RpcGen;

/// <summary>
/// Names an authorization policy a call must pass before the implementation runs. On an interface
/// it applies to each of its methods; on a method, to that method (after the interface's). Several
/// attributes mean every named policy must allow the call. Policies are registered in code on the
/// server by name (on the message transport, <c>RpcServerOptions.AuthorizationPolicies</c>); a call a
/// policy denies fails with <c>RpcStatusCode.PermissionDenied</c>.
/// </summary>
[AttributeUsage(AttributeTargets.Interface | AttributeTargets.Method, AllowMultiple = true, Inherited = false)]
public sealed class RpcAuthorizeAttribute : Attribute
{
    /// <summary>Requires the policy named <paramref name="policy"/>.</summary>
    public RpcAuthorizeAttribute(string policy)
    {
        Policy = policy;
    }

    /// <summary>The name of the policy.</summary>
    public string Policy { get; }
}
