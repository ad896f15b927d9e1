using RpcGen.Security;

namespace RpcGen.Transport.Message.Tests;

public sealed record PeerInfo(string? Fingerprint, string? Name, string? Email, string? Authority, int? ProcessId, int? UserId, int? GroupId);

[RpcService]
[RpcAuthorize("known")]
public interface ISecureService
{
    Task<PeerInfo?> WhoAmIAsync();

    [RpcAuthorize("admins")]
    Task<string> AdminOnlyAsync();
}

public sealed class SecureService : ISecureService
{
    public int AdminCalls;

    public Task<PeerInfo?> WhoAmIAsync() => Task.FromResult(RpcCallContext.Current?.PeerIdentity is { } p
        ? new PeerInfo(p.Fingerprint, p.Name, p.Email, p.CertificateAuthority, p.ProcessId, p.UserId, p.GroupId)
        : null);

    public Task<string> AdminOnlyAsync()
    {
        Interlocked.Increment(ref AdminCalls);
        return Task.FromResult("secret");
    }
}

/// <summary>A CA and identities made at test time in a temp directory (no private key is ever committed).</summary>
public sealed class TestPki : IDisposable
{
    private static readonly Lazy<TestPki> s_shared = new(() => new TestPki());

    public TestPki()
    {
        Directory = System.IO.Directory.CreateTempSubdirectory("rpcgen-tls-").FullName;
        Authority = RpcCertificates.CreateAuthority("Test CA");
        Server = RpcCertificates.IssueIdentity(Authority, "server", "server@example.test");
        Client = RpcCertificates.IssueIdentity(Authority, "alice", "alice@example.test");
    }

    /// <summary>One CA and two identities shared by tests that need nothing special (key generation is the slow part).</summary>
    public static TestPki Shared => s_shared.Value;

    public string Directory { get; }

    public System.Security.Cryptography.X509Certificates.X509Certificate2 Authority { get; }

    public System.Security.Cryptography.X509Certificates.X509Certificate2 Server { get; }

    public System.Security.Cryptography.X509Certificates.X509Certificate2 Client { get; }

    public System.Security.Cryptography.X509Certificates.X509Certificate2 Issue(string name) => RpcCertificates.IssueIdentity(Authority, name, name + "@example.test");

    public RpcTlsOptions ServerTls(string? knownKeys = null, RpcTlsPosture posture = RpcTlsPosture.MutualTls) => new()
    {
        Certificate = Server,
        CertificateAuthorities = [Authority],
        KnownKeysPath = knownKeys,
        Posture = posture,
    };

    public RpcTlsOptions ClientTls(System.Security.Cryptography.X509Certificates.X509Certificate2? certificate = null, string? knownKeys = null) => new()
    {
        Certificate = certificate ?? Client,
        CertificateAuthorities = [Authority],
        KnownKeysPath = knownKeys,
    };

    public string TempPath(string name) => Path.Combine(Directory, name);

    public void Dispose()
    {
        try
        {
            System.IO.Directory.Delete(Directory, recursive: true);
        }
        catch (IOException)
        {
        }
    }
}
