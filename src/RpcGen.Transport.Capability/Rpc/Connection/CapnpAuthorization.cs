using Microsoft.Extensions.Logging;
using RpcGen.Security;

namespace RpcGen.Capnp;

/// <summary>
/// One connection's view of its authorization rules: the rules of its options
/// (<see cref="CapnpConnectionOptions.Authorizer"/>, <see cref="CapnpConnectionOptions.AuthorizationPolicies"/>)
/// and who the peer is. Built with the connection and read-only after, so handlers on any thread
/// consult it without a lock.
/// </summary>
/// <remarks>
/// Only calls the peer makes are checked (a request carries this object only when a connection
/// delivered it), and only on servers that name the method they run
/// (<see cref="ICapabilityServer.FindMethod"/>): generated <c>[RpcService]</c> servers do, so the
/// server-wide authorizer and the method's <c>[RpcAuthorize]</c> policies both apply to them;
/// a hand-written server that returns null is not checked. Authorizers are user code: the check runs
/// in <see cref="CallContext"/>'s start, where the implementation would run.
/// </remarks>
internal sealed class CapnpAuthorization
{
    private readonly CallAuthorization _rules;
    private readonly RpcGen.Links.RpcLink? _link;
    private readonly string _peer;
    private readonly ILogger _logger;

    private CapnpAuthorization(CallAuthorization rules, RpcGen.Links.RpcLink? link, string peer, ILogger logger)
    {
        _rules = rules;
        _link = link;
        _peer = peer;
        _logger = logger;
    }

    /// <summary>The rules of <paramref name="options"/> for a connection over <paramref name="link"/>, or null when there are none.</summary>
    public static CapnpAuthorization? Create(CapnpConnectionOptions options, RpcGen.Links.RpcLink? link, string peer, ILogger logger)
    {
        var rules = new CallAuthorization(options.Authorizer, options.AuthorizationPolicies);
        return rules.IsEmpty ? null : new CapnpAuthorization(rules, link, peer, logger);
    }

    /// <summary>Why the peer may not make this call on <paramref name="server"/>, or null to let it run.</summary>
    public string? Check(ICapabilityServer server, ulong interfaceId, ushort methodId)
    {
        if (server.FindMethod(interfaceId, methodId) is not { } method)
        {
            return null;
        }

        // Read at each call: a TLS link knows its peer only once the handshake is done.
        var identity = _link?.PeerIdentity;
        if (_rules.Check(method, _peer, identity) is not { } denial)
        {
            return null;
        }

        CapnpLog.CallDenied(_logger, method.FullName, identity?.Name ?? _peer, denial);
        return denial;
    }
}
