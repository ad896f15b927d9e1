using RpcGen.Security;

namespace RpcGen.Transport.Flow;

/// <summary>
/// Who is at the other end of a flow connection: what the link established (a TLS certificate,
/// Unix socket credentials) and the name the peer gave itself in its setup frame.
/// </summary>
/// <param name="RemoteAddress">The peer's address as the link reports it.</param>
/// <param name="Name">The name the peer announced. Not authenticated: on a plain link anyone can claim any name.</param>
/// <param name="Identity">What the link verified about the peer (TLS, <c>SO_PEERCRED</c>), or null.</param>
public sealed record FlowPeer(string RemoteAddress, string Name, RpcPeerIdentity? Identity);

/// <summary>
/// Decides from the remote side's identity whether a flow connection may be used (v23's
/// <c>PeerAuthorizer</c>). Runs on both sides while a connection opens, and again when a dial
/// reuses a cached connection; a refusal is <see cref="FlowErrorCode.NotTrusted"/> on both sides.
/// </summary>
public interface IPeerAuthorizer
{
    /// <summary>Returns null to allow <paramref name="peer"/>, or why it is refused.</summary>
    ValueTask<string?> AuthorizeAsync(FlowPeer peer, CancellationToken cancellationToken);
}

/// <summary>Ready-made authorizers.</summary>
public static class PeerAuthorizers
{
    /// <summary>Allows every peer.</summary>
    public static IPeerAuthorizer AllowAll { get; } = new Delegating((_, _) => ValueTask.FromResult<string?>(null));

    /// <summary>Allows only peers whose announced <see cref="FlowPeer.Name"/> is one of <paramref name="names"/>.</summary>
    public static IPeerAuthorizer Names(params string[] names) => new Delegating((peer, _) =>
        ValueTask.FromResult(names.Contains(peer.Name, StringComparer.Ordinal) ? null : $"'{peer.Name}' is not one of the allowed peers."));

    /// <summary>An authorizer from a function.</summary>
    public static IPeerAuthorizer From(Func<FlowPeer, CancellationToken, ValueTask<string?>> authorize) => new Delegating(authorize);

    private sealed class Delegating(Func<FlowPeer, CancellationToken, ValueTask<string?>> authorize) : IPeerAuthorizer
    {
        public ValueTask<string?> AuthorizeAsync(FlowPeer peer, CancellationToken cancellationToken) => authorize(peer, cancellationToken);
    }
}
