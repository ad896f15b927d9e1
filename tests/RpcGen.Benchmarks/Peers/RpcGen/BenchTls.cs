using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using RpcGen.Security;

namespace RpcGen.Benchmarks.Peers.RpcGen;

/// <summary>
/// The certificates and pre-shared key the TLS peers use: a CA and two identities (server, client)
/// generated once per process in memory, never written to disk or committed.
/// </summary>
public static class BenchTls
{
    private static readonly Lazy<(X509Certificate2 Ca, X509Certificate2 Server, X509Certificate2 Client, byte[] Psk)> Keys = new(() =>
    {
        var ca = RpcCertificates.CreateAuthority("RpcGen benchmark CA");
        return (ca, RpcCertificates.IssueIdentity(ca, "bench-server"), RpcCertificates.IssueIdentity(ca, "bench-client"), RandomNumberGenerator.GetBytes(RpcPskLayer.KeyLength));
    });

    /// <summary>
    /// Server options: mutual TLS 1.3 against the benchmark CA, no known-keys history; with
    /// <paramref name="psk"/>, the PSK layer inside; <paramref name="aesFirst"/> offers AES-128-GCM
    /// first instead of the default ChaCha20-Poly1305.
    /// </summary>
    public static RpcTlsOptions Server(bool psk, bool aesFirst = false) => new()
    {
        Certificate = Keys.Value.Server,
        CertificateAuthorities = [Keys.Value.Ca],
        InnerLayer = psk ? new RpcPskLayer(Keys.Value.Psk) : null,
        CipherSuites = aesFirst ? RpcTlsCipherSuites.AesGcmFirst : RpcTlsCipherSuites.ChaCha20First,
    };

    /// <summary>Client options matching <see cref="Server"/>.</summary>
    public static RpcTlsOptions Client(bool psk, bool aesFirst = false) => new()
    {
        Certificate = Keys.Value.Client,
        CertificateAuthorities = [Keys.Value.Ca],
        InnerLayer = psk ? new RpcPskLayer(Keys.Value.Psk) : null,
        CipherSuites = aesFirst ? RpcTlsCipherSuites.AesGcmFirst : RpcTlsCipherSuites.ChaCha20First,
    };
}
