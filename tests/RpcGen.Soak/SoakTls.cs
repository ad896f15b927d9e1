using System.Security.Cryptography.X509Certificates;
using RpcGen.Security;

namespace RpcGen.Soak;

/// <summary>
/// A throwaway PKI for <c>--transport tls</c>: a CA and a server and a client identity issued by it at
/// start-up, in memory only (no private key is written anywhere), as the message transport's TLS
/// tests make theirs. Both sides present a certificate: mutual TLS.
/// </summary>
public sealed class SoakTls
{
    private readonly X509Certificate2 _authority = RpcCertificates.CreateAuthority("RpcGen soak CA");
    private readonly X509Certificate2 _server;
    private readonly X509Certificate2 _client;

    public SoakTls()
    {
        _server = RpcCertificates.IssueIdentity(_authority, "soak-server");
        _client = RpcCertificates.IssueIdentity(_authority, "soak-client");
    }

    /// <summary>The server's side: its identity, and the CA its clients' certificates must chain to.</summary>
    public RpcTlsOptions Server => new() { Certificate = _server, CertificateAuthorities = [_authority], Posture = RpcTlsPosture.MutualTls };

    /// <summary>A client's side: its identity, and the CA the server's certificate must chain to.</summary>
    public RpcTlsOptions Client => new() { Certificate = _client, CertificateAuthorities = [_authority] };
}
