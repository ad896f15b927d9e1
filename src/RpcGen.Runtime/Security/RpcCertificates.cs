using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;

namespace RpcGen.Security;

/// <summary>
/// Creates and checks the certificates RpcGen's TLS links use: a private CA of your own, and ECDSA
/// P-256 identities it signs, all issued to one fixed server name. Ed25519 would be the first choice
/// (rpc25519 uses it), but .NET cannot use an Ed25519 certificate as a TLS identity, so identities
/// are ECDSA P-256.
/// </summary>
public static class RpcCertificates
{
    /// <summary>The name every identity is issued to and every client asks for (SNI).</summary>
    public const string DefaultServerName = "rpcgen";

    private const string ServerAuthOid = "1.3.6.1.5.5.7.3.1";
    private const string ClientAuthOid = "1.3.6.1.5.5.7.3.2";

    /// <summary>Creates a new CA: a self-signed ECDSA P-256 certificate with its private key.</summary>
    public static X509Certificate2 CreateAuthority(string name, TimeSpan? validity = null)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(name);
        using var key = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        var request = new CertificateRequest(new X500DistinguishedName("CN=" + Escape(name)), key, HashAlgorithmName.SHA256);
        request.CertificateExtensions.Add(new X509BasicConstraintsExtension(certificateAuthority: true, hasPathLengthConstraint: true, pathLengthConstraint: 0, critical: true));
        request.CertificateExtensions.Add(new X509KeyUsageExtension(X509KeyUsageFlags.KeyCertSign | X509KeyUsageFlags.CrlSign, critical: true));
        request.CertificateExtensions.Add(new X509SubjectKeyIdentifierExtension(request.PublicKey, critical: false));
        var now = DateTimeOffset.UtcNow;
        return request.CreateSelfSigned(now.AddMinutes(-5), now + (validity ?? TimeSpan.FromDays(3650)));
    }

    /// <summary>
    /// Issues an identity signed by <paramref name="authority"/> (which must carry its private key):
    /// an ECDSA P-256 key pair and a certificate for <see cref="DefaultServerName"/> usable by servers
    /// and clients, with <paramref name="name"/> as its common name and <paramref name="email"/>, when
    /// given, as an email subject alternative name.
    /// </summary>
    public static X509Certificate2 IssueIdentity(X509Certificate2 authority, string name, string? email = null, TimeSpan? validity = null, string serverName = DefaultServerName)
    {
        ArgumentNullException.ThrowIfNull(authority);
        ArgumentException.ThrowIfNullOrWhiteSpace(name);
        using var caKey = authority.GetECDsaPrivateKey() ?? throw new ArgumentException("The CA certificate has no ECDSA private key.", nameof(authority));
        using var key = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        var request = new CertificateRequest(new X500DistinguishedName("CN=" + Escape(name)), key, HashAlgorithmName.SHA256);
        request.CertificateExtensions.Add(new X509BasicConstraintsExtension(false, false, 0, critical: true));
        request.CertificateExtensions.Add(new X509KeyUsageExtension(X509KeyUsageFlags.DigitalSignature | X509KeyUsageFlags.KeyAgreement, critical: true));
        request.CertificateExtensions.Add(new X509EnhancedKeyUsageExtension(new OidCollection { new Oid(ServerAuthOid), new Oid(ClientAuthOid) }, critical: false));
        request.CertificateExtensions.Add(new X509SubjectKeyIdentifierExtension(request.PublicKey, critical: false));
        request.CertificateExtensions.Add(X509AuthorityKeyIdentifierExtension.CreateFromCertificate(authority, includeKeyIdentifier: true, includeIssuerAndSerial: false));
        var names = new SubjectAlternativeNameBuilder();
        names.AddDnsName(serverName);
        if (!string.IsNullOrWhiteSpace(email))
        {
            names.AddEmailAddress(email);
        }

        request.CertificateExtensions.Add(names.Build());
        var now = DateTimeOffset.UtcNow;
        var notAfter = now + (validity ?? TimeSpan.FromDays(825));
        if (notAfter > authority.NotAfter)
        {
            notAfter = authority.NotAfter;
        }

        var serial = RandomNumberGenerator.GetBytes(16);
        serial[0] &= 0x7f;
        using var issued = request.Create(authority.SubjectName, X509SignatureGenerator.CreateForECDsa(caKey), now.AddMinutes(-5), notAfter, serial);
        return issued.CopyWithPrivateKey(key);
    }

    /// <summary>The SHA-256 fingerprint of <paramref name="certificate"/>'s public key (SPKI): <c>sha256:</c> and 64 lowercase hex digits.</summary>
    public static string Fingerprint(X509Certificate2 certificate)
    {
        ArgumentNullException.ThrowIfNull(certificate);
        var spki = certificate.PublicKey.ExportSubjectPublicKeyInfo();
        return "sha256:" + Convert.ToHexStringLower(SHA256.HashData(spki));
    }

    /// <summary>The certificate's common name (its identity's name).</summary>
    public static string Name(X509Certificate2 certificate) =>
        certificate.GetNameInfo(X509NameType.SimpleName, forIssuer: false) is { Length: > 0 } name ? name : certificate.Subject;

    /// <summary>The certificate's email (subject alternative name, else subject <c>E=</c>), or null.</summary>
    public static string? Email(X509Certificate2 certificate) =>
        certificate.GetNameInfo(X509NameType.EmailName, forIssuer: false) is { Length: > 0 } email ? email : null;

    /// <summary>
    /// Checks that <paramref name="certificate"/> chains to one of <paramref name="authorities"/>, and
    /// only to them (the system roots are not consulted), is within its validity period and is not a CA.
    /// </summary>
    /// <returns>The subject of the CA it chains to, or null with <paramref name="error"/> saying why not.</returns>
    public static string? VerifyChain(X509Certificate2 certificate, X509Certificate2Collection authorities, out string? error)
    {
        ArgumentNullException.ThrowIfNull(certificate);
        ArgumentNullException.ThrowIfNull(authorities);
        using var chain = new X509Chain();
        chain.ChainPolicy.TrustMode = X509ChainTrustMode.CustomRootTrust;
        chain.ChainPolicy.CustomTrustStore.AddRange(authorities);
        chain.ChainPolicy.RevocationMode = X509RevocationMode.NoCheck;
        chain.ChainPolicy.DisableCertificateDownloads = true;
        if (!chain.Build(certificate))
        {
            var statuses = chain.ChainStatus.Select(s => s.StatusInformation.Trim()).Where(s => s.Length > 0).Distinct();
            error = $"the certificate {certificate.Subject} does not chain to the configured CA ({string.Join("; ", statuses)})";
            return null;
        }

        var root = chain.ChainElements[^1].Certificate;
        // CustomRootTrust already ends the chain in the store; compare bytes anyway, not names and serials.
        if (chain.ChainElements.Count < 2 || !authorities.Any(authority => authority.RawDataMemory.Span.SequenceEqual(root.RawDataMemory.Span)))
        {
            error = $"the certificate {certificate.Subject} is not issued by the configured CA";
            return null;
        }

        foreach (var extension in certificate.Extensions)
        {
            if (extension is X509BasicConstraintsExtension { CertificateAuthority: true })
            {
                error = $"the certificate {certificate.Subject} is a CA, not an identity";
                return null;
            }
        }

        error = null;
        return root.Subject;
    }

    /// <summary>Describes the peer a verified certificate names.</summary>
    public static RpcPeerIdentity Describe(X509Certificate2 certificate, string? authority) => new()
    {
        Fingerprint = Fingerprint(certificate),
        Subject = certificate.Subject,
        Name = Name(certificate),
        Email = Email(certificate),
        CertificateAuthority = authority,
    };

    private static string Escape(string name) =>
        name.IndexOfAny([',', '+', '"', '\\', '<', '>', ';', '=']) >= 0 ? "\"" + name.Replace("\"", "\\\"", StringComparison.Ordinal) + "\"" : name;
}
