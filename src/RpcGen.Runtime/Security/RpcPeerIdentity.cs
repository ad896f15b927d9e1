namespace RpcGen.Security;

/// <summary>
/// Who the peer of a connection is, as far as the link could establish it: from its TLS certificate
/// (checked against the configured CA) and, on Unix sockets, from the kernel (<c>SO_PEERCRED</c>).
/// Fields the link could not establish are null.
/// </summary>
public sealed record RpcPeerIdentity
{
    /// <summary>The SHA-256 fingerprint of the peer certificate's public key (SPKI), as <c>sha256:</c> and lowercase hex; null without a certificate.</summary>
    public string? Fingerprint { get; init; }

    /// <summary>The peer certificate's subject distinguished name; null without a certificate.</summary>
    public string? Subject { get; init; }

    /// <summary>The peer certificate's common name (the identity's name); null without a certificate.</summary>
    public string? Name { get; init; }

    /// <summary>The peer certificate's email (subject alternative name or subject <c>E=</c>); null when it has none.</summary>
    public string? Email { get; init; }

    /// <summary>The subject of the CA the peer certificate chains to; null without a verified certificate.</summary>
    public string? CertificateAuthority { get; init; }

    /// <summary>The peer process id from <c>SO_PEERCRED</c> (Unix sockets on Linux); null elsewhere.</summary>
    public int? ProcessId { get; init; }

    /// <summary>The peer user id from <c>SO_PEERCRED</c> (Unix sockets on Linux); null elsewhere.</summary>
    public int? UserId { get; init; }

    /// <summary>The peer group id from <c>SO_PEERCRED</c> (Unix sockets on Linux); null elsewhere.</summary>
    public int? GroupId { get; init; }

    /// <summary>Whether the peer proved a certificate signed by the configured CA.</summary>
    public bool IsAuthenticated => Fingerprint is not null && CertificateAuthority is not null;
}
