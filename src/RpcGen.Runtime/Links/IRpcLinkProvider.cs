namespace RpcGen.Links;

/// <summary>
/// Opens links for address schemes the runtime does not know by itself (a flow over a shared
/// connection, a shared-memory window set, a user's own carrier). Register one with
/// <see cref="RpcLinks.Register"/>; from then on <see cref="RpcLinks.ConnectAsync(string, RpcLimits?, RpcGen.Security.RpcTlsOptions?, CancellationToken)"/>
/// and <see cref="RpcLinks.Listen(string, RpcLimits?, RpcGen.Security.RpcTlsOptions?, Microsoft.Extensions.Logging.ILogger?, TimeProvider?)"/>
/// hand it every address that starts with one of its <see cref="Schemes"/> followed by <c>:</c>,
/// so every protocol (message, Cap'n Proto) runs over it with only the address changed.
/// </summary>
public interface IRpcLinkProvider
{
    /// <summary>
    /// The schemes this provider opens, without the colon (<c>flow+tcp</c>, <c>shm</c>). Matched
    /// without regard to case; the built-in schemes (<c>tcp</c>, <c>tls</c>, <c>unix</c>,
    /// <c>tls+unix</c>, <c>memory</c>) cannot be taken over.
    /// </summary>
    IReadOnlyList<string> Schemes { get; }

    /// <summary>Connects to <paramref name="address"/>; fails with <see cref="RpcException"/> (<see cref="RpcStatusCode.Disconnected"/> when nobody listens).</summary>
    ValueTask<RpcLink> ConnectAsync(string address, RpcLinkContext context, CancellationToken cancellationToken);

    /// <summary>Starts listening on <paramref name="address"/>.</summary>
    RpcLinkListener Listen(string address, RpcLinkContext context);
}
