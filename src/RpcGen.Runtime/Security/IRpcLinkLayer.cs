using RpcGen.Links;

namespace RpcGen.Security;

/// <summary>
/// A layer between a link and the protocol that runs over it (for example the pre-shared-key record
/// layer of <c>RpcGen.Security</c>): given an open link, it runs its own handshake and returns a link
/// that carries the protocol's bytes through it. Used by TLS links after the TLS handshake (see
/// <see cref="RpcTlsOptions.InnerLayer"/>), within the server's <see cref="RpcLimits.HandshakeTimeout"/>.
/// </summary>
public interface IRpcLinkLayer
{
    /// <summary>
    /// Runs the layer's handshake over <paramref name="link"/> as the <paramref name="server"/> or
    /// client side, and returns the wrapping link (which then owns <paramref name="link"/>).
    /// </summary>
    /// <exception cref="RpcException">
    /// <see cref="RpcStatusCode.PermissionDenied"/> when the peer failed the layer's check (the caller
    /// closes <paramref name="link"/>).
    /// </exception>
    ValueTask<RpcLink> WrapAsync(RpcLink link, bool server, CancellationToken cancellationToken);
}
