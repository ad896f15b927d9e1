using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using RpcGen;
using RpcGen.Security;
using RpcGen.Transport.Message;
using Secure;

// Everything lives in a temp directory: a CA, three identities, known keys, a pre-shared key.
var home = Directory.CreateTempSubdirectory("rpcgen-secure-").FullName;
var failures = 0;
try
{
    // 1. A CA of our own and identities it signs (what `rpcgen keys ca` and `rpcgen keys new` do).
    var keys = Path.Combine(home, "keys");
    using var ca = RpcCertificates.CreateAuthority("Secure sample CA");
    RpcKeyFiles.Write(keys, "ca", ca, passphrase: "correct horse");
    foreach (var (name, email) in new[] { ("server", "ops@example.test"), ("alice", "alice@example.test"), ("bob", "bob@example.test") })
    {
        using var identity = RpcCertificates.IssueIdentity(ca, name, email);
        RpcKeyFiles.Write(keys, name, identity, passphrase: null);
    }

    X509Certificate2 Load(string name) => RpcKeyFiles.ReadIdentity(Path.Combine(keys, name + ".crt"), Path.Combine(keys, name + ".key"), null);
    var server = Load("server");
    var alice = Load("alice");
    var bob = Load("bob");
    Console.WriteLine($"CA {ca.Subject}; alice {RpcCertificates.Fingerprint(alice)}; bob {RpcCertificates.Fingerprint(bob)}");

    var knownClients = Path.Combine(home, "known_client_keys");
    RpcTlsOptions ServerTls(IRpcLinkLayer? inner = null) => new() { Certificate = server, CertificateAuthorities = [ca], KnownKeysPath = knownClients, InnerLayer = inner };
    RpcTlsOptions ClientTls(X509Certificate2 who, IRpcLinkLayer? inner = null) => new() { Certificate = who, CertificateAuthorities = [ca], InnerLayer = inner };
    async Task<RpcServer> StartAsync(RpcTlsOptions tls)
    {
        var started = new RpcServer(new RpcServerOptions
        {
            Tls = tls,
            AuthorizationPolicies = new Dictionary<string, IRpcAuthorizer> { ["owner"] = RpcAuthorizer.From(c => c.PeerIdentity?.Name == "alice", "Only alice may open the vault.") },
        });
        started.AddService<IVault>(new Vault());
        await started.StartAsync("tls://127.0.0.1:0");
        return started;
    }

    async Task<string> CallAsync(string address, RpcTlsOptions tls)
    {
        try
        {
            await using var client = await RpcClient.ConnectAsync(address, new RpcClientOptions { Tls = tls });
            return await client.GetService<IVault>().WhoAmIAsync();
        }
        catch (RpcException ex)
        {
            return $"{ex.StatusCode}: {ex.Message}";
        }
    }

    // 2. Trust on first use: the known-keys file is writable, so alice is recorded and admitted.
    await using (var tofu = await StartAsync(ServerTls()))
    {
        var answer = await CallAsync(tofu.Addresses[0], ClientTls(alice));
        Check(answer.StartsWith("alice <alice@example.test> sha256:", StringComparison.Ordinal), $"TOFU: alice admitted as \"{answer}\"");
        Check(File.ReadAllText(knownClients).Contains(RpcCertificates.Fingerprint(alice), StringComparison.Ordinal), "TOFU: alice recorded in known_client_keys");

        await using var client = await RpcClient.ConnectAsync(tofu.Addresses[0], new RpcClientOptions { Tls = ClientTls(alice) });
        Check(await client.GetService<IVault>().OpenAsync() == "the gold", "authorization: alice may open the vault");
    }

    // 3. Lockdown: make the file read-only; bob (same CA, never seen) is refused, alice still gets in.
    if (OperatingSystem.IsWindows())
    {
        File.SetAttributes(knownClients, FileAttributes.ReadOnly);
    }
    else
    {
        File.SetUnixFileMode(knownClients, UnixFileMode.UserRead);
    }

    await using (var locked = await StartAsync(ServerTls()))
    {
        var refused = await CallAsync(locked.Addresses[0], ClientTls(bob));
        Check(refused.StartsWith("PermissionDenied", StringComparison.Ordinal), $"lockdown: bob refused: {refused}");
        var admitted = await CallAsync(locked.Addresses[0], ClientTls(alice));
        Check(admitted.StartsWith("alice", StringComparison.Ordinal), "lockdown: alice admitted");
    }

    // 4. A pre-shared key inside TLS (what `rpcgen keys psk` writes): right key in, wrong key out.
    var pskFile = Path.Combine(home, "psk");
    RpcPskLayer.CreateKeyFile(pskFile);
    await using (var withPsk = await StartAsync(ServerTls(RpcPskLayer.FromFile(pskFile))))
    {
        var right = await CallAsync(withPsk.Addresses[0], ClientTls(alice, RpcPskLayer.FromFile(pskFile)));
        Check(right.StartsWith("alice", StringComparison.Ordinal), "PSK: the right key gets in");
        var wrong = await CallAsync(withPsk.Addresses[0], ClientTls(alice, new RpcPskLayer(RandomNumberGenerator.GetBytes(32))));
        Check(wrong.StartsWith("PermissionDenied", StringComparison.Ordinal), $"PSK: a wrong key is refused: {wrong}");
    }
}
finally
{
    Directory.Delete(home, recursive: true);
}

Console.WriteLine(failures == 0 ? "OK" : $"{failures} check(s) failed");
return failures == 0 ? 0 : 1;

void Check(bool condition, string what)
{
    Console.WriteLine((condition ? "  ok   " : "  FAIL ") + what);
    if (!condition)
    {
        failures++;
    }
}
