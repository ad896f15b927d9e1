using System.Security.Cryptography;
using RpcGen.Security;

namespace RpcGen.Transport.Message.Tests;

/// <summary>The key files <c>rpcgen keys</c> writes: sealed with a passphrase, private, never overwritten, usable as TLS identities.</summary>
public class KeyFilesTests
{
    [Fact]
    public async Task Identities_written_with_a_passphrase_read_back_and_connect()
    {
        using var pki = new TestPki();
        var keys = pki.TempPath("keys");
        RpcKeyFiles.Write(keys, "ca", pki.Authority, "ca secret");
        var (serverCrt, serverKey) = RpcKeyFiles.Write(keys, "server", pki.Server, "server secret");
        var (clientCrt, clientKey) = RpcKeyFiles.Write(keys, "alice", pki.Client, passphrase: null);

        Assert.True(RpcKeyFiles.IsEncrypted(serverKey));
        Assert.False(RpcKeyFiles.IsEncrypted(clientKey));
        Assert.DoesNotContain("BEGIN PRIVATE KEY", File.ReadAllText(serverKey));
        Assert.Contains("BEGIN " + RpcKeyFiles.EncryptedKeyLabel, File.ReadAllText(serverKey));
        if (!OperatingSystem.IsWindows())
        {
            Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite, File.GetUnixFileMode(serverKey));
            Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute, File.GetUnixFileMode(keys));
        }

        Assert.Throws<CryptographicException>(() => RpcKeyFiles.ReadIdentity(serverCrt, serverKey, "wrong"));
        Assert.Throws<IOException>(() => RpcKeyFiles.Write(keys, "server", pki.Server, null));

        var authority = RpcKeyFiles.ReadCertificate(Path.Combine(keys, RpcKeyFiles.AuthorityCertificateFile));
        var server = new RpcServer(new RpcServerOptions
        {
            Tls = new RpcTlsOptions { Certificate = RpcKeyFiles.ReadIdentity(serverCrt, serverKey, "server secret"), CertificateAuthorities = [authority] },
        });
        await using var _server = server;
        server.AddService<ISecureService>(new SecureService());
        await server.StartAsync("tls://127.0.0.1:0");
        var clientTls = new RpcTlsOptions { Certificate = RpcKeyFiles.ReadIdentity(clientCrt, clientKey, null), CertificateAuthorities = [authority] };
        await using var client = await RpcClient.ConnectAsync(server.Addresses[0], new RpcClientOptions { Tls = clientTls }).WaitAsync(TransportFixture.Timeout);

        var me = await client.GetService<ISecureService>().WhoAmIAsync().WaitAsync(TransportFixture.Timeout);

        Assert.Equal(RpcCertificates.Fingerprint(pki.Client), me!.Fingerprint);
    }

    [Fact]
    public void A_psk_file_is_32_private_bytes_and_is_never_overwritten()
    {
        using var pki = new TestPki();
        var path = pki.TempPath("psk");

        RpcPskLayer.CreateKeyFile(path);

        Assert.Equal(32, new FileInfo(path).Length);
        if (!OperatingSystem.IsWindows())
        {
            Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite, File.GetUnixFileMode(path));
        }

        var before = File.ReadAllBytes(path);
        Assert.Throws<IOException>(() => RpcPskLayer.CreateKeyFile(path));
        Assert.Equal(before, File.ReadAllBytes(path));
        _ = RpcPskLayer.FromFile(path);
    }
}
