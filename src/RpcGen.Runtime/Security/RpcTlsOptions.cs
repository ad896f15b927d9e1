using System.Net.Security;
using System.Security.Cryptography.X509Certificates;

namespace RpcGen.Security;

/// <summary>
/// TLS settings of one side of a <c>tls://HOST:PORT</c> or <c>tls+unix:PATH</c> link: this side's
/// identity, the CA peers must chain to, the posture and the known-keys file. TLS 1.3 only.
/// </summary>
/// <remarks>
/// Certificates are issued to one fixed name (<see cref="RpcCertificates.DefaultServerName"/>), as in
/// rpc25519: identities move between machines without being re-issued, and a client checks the server
/// by CA and known keys, not by host name. <c>tcp://</c> and <c>unix:</c> addresses stay plain even
/// when these options are given: plain is chosen by the address, explicitly.
/// </remarks>
public sealed class RpcTlsOptions
{
    /// <summary>This side's certificate, with its private key (ECDSA P-256, signed by <see cref="CertificateAuthorities"/>). Required on a server; a client without one can reach only a <see cref="RpcTlsPosture.SkipClientVerification"/> server.</summary>
    public X509Certificate2? Certificate { get; init; }

    /// <summary>The CA certificates a peer's certificate must chain to. Only these are trusted; the system roots never are. Required.</summary>
    public X509Certificate2Collection CertificateAuthorities { get; init; } = new();

    /// <summary>How strictly a server checks clients. Default <see cref="RpcTlsPosture.MutualTls"/>.</summary>
    public RpcTlsPosture Posture { get; init; } = RpcTlsPosture.MutualTls;

    /// <summary>
    /// The known-keys file (<c>known_client_keys</c> on a server, <c>known_server_keys</c> on a client);
    /// null keeps no history (certificates are still checked). Writable: trust on first use, a new
    /// CA-signed peer is recorded. Read-only: lockdown, only listed peers get in. See <see cref="RpcKnownKeys"/>.
    /// </summary>
    public string? KnownKeysPath { get; init; }

    /// <summary>The name certificates are issued to and a client sends as SNI. Default <see cref="RpcCertificates.DefaultServerName"/>.</summary>
    public string ServerName { get; init; } = RpcCertificates.DefaultServerName;

    /// <summary>
    /// The TLS 1.3 cipher suites to offer, most preferred first. Default
    /// <see cref="RpcTlsCipherSuites.ChaCha20First"/>; <see cref="RpcTlsCipherSuites.AesGcmFirst"/> is
    /// faster for bulk data on CPUs with AES instructions; null leaves the operating system's choice.
    /// Honoured on Linux and macOS (<see cref="CipherSuitesPolicy"/>); on Windows the system's
    /// configured order applies and this setting is ignored.
    /// </summary>
    public IReadOnlyList<TlsCipherSuite>? CipherSuites { get; init; } = RpcTlsCipherSuites.ChaCha20First;

    /// <summary>
    /// A layer run inside TLS once both sides are admitted, before the protocol starts: for example
    /// <c>RpcPskLayer</c> (package <c>RpcGen.Security</c>), so a stolen TLS identity alone does not get
    /// in. Both sides must use the same layer. Default: none.
    /// </summary>
    public IRpcLinkLayer? InnerLayer { get; init; }

    /// <summary>Checks the options can work on the side they are used for.</summary>
    internal void Validate(bool server)
    {
        if (CertificateAuthorities.Count == 0)
        {
            throw new InvalidOperationException("RpcTlsOptions.CertificateAuthorities is empty: give the CA certificate peers must chain to (only it is trusted, never the system roots).");
        }

        if (server && Certificate is null)
        {
            throw new InvalidOperationException("A TLS server needs RpcTlsOptions.Certificate (its identity, with the private key).");
        }

        if (Certificate is { HasPrivateKey: false })
        {
            throw new InvalidOperationException($"RpcTlsOptions.Certificate ({Certificate.Subject}) has no private key.");
        }
    }

    internal CipherSuitesPolicy? CreateCipherSuitesPolicy() =>
        CipherSuites is { Count: > 0 } && !OperatingSystem.IsWindows() ? new CipherSuitesPolicy(CipherSuites) : null;
}
