using System.CommandLine;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using RpcGen.Security;

namespace RpcGen.Tool;

/// <summary>
/// <c>rpcgen keys</c>: ca, new, show, verify, trust, psk. Private keys are written mode 0600, sealed
/// with a passphrase (Argon2id) unless <c>--no-passphrase</c>, and never printed. The passphrase comes
/// from <c>RPCGEN_PASSPHRASE</c> when set, else from the terminal without echo.
/// </summary>
internal static class KeysCommand
{
    private const string PassphraseVariable = "RPCGEN_PASSPHRASE";

    public static RootCommand CreateRoot()
    {
        var root = new RootCommand("RpcGen command-line tool.");
        var keys = new Command("keys", "Manage the CA, identities, known keys and pre-shared keys of RpcGen TLS links.");
        root.Subcommands.Add(keys);

        var dir = new Option<string>("--dir") { Description = "The key directory (private, mode 0700).", DefaultValueFactory = _ => DefaultDirectory() };
        var noPassphrase = new Option<bool>("--no-passphrase") { Description = "Write the private key unencrypted (still mode 0600)." };

        var ca = new Command("ca", "Create a new CA in the key directory.");
        var caName = new Option<string>("--name") { Description = "The CA's common name.", DefaultValueFactory = _ => "RpcGen CA " + Environment.MachineName };
        ca.Options.Add(dir);
        ca.Options.Add(caName);
        ca.Options.Add(noPassphrase);
        ca.SetAction(result => Run(() => CreateAuthority(result.GetValue(dir)!, result.GetValue(caName)!, result.GetValue(noPassphrase))));
        keys.Subcommands.Add(ca);

        var create = new Command("new", "Create an identity signed by the CA.");
        var name = new Argument<string>("NAME") { Description = "The identity's name (its certificate's common name and file name)." };
        var email = new Option<string?>("--email") { Description = "The identity's email, as a subject alternative name." };
        create.Arguments.Add(name);
        create.Options.Add(email);
        create.Options.Add(dir);
        create.Options.Add(noPassphrase);
        create.SetAction(result => Run(() => CreateIdentity(result.GetValue(dir)!, result.GetValue(name)!, result.GetValue(email), result.GetValue(noPassphrase))));
        keys.Subcommands.Add(create);

        var show = new Command("show", "Show a certificate: fingerprint, subject, email, issuer, validity.");
        var file = new Argument<string>("FILE") { Description = "A certificate file (.crt)." };
        show.Arguments.Add(file);
        show.SetAction(result => Run(() => Show(result.GetValue(file)!)));
        keys.Subcommands.Add(show);

        var verify = new Command("verify", "Check that a certificate is signed by the CA of the key directory.");
        var verifyFile = new Argument<string>("FILE") { Description = "A certificate file (.crt)." };
        verify.Arguments.Add(verifyFile);
        verify.Options.Add(dir);
        verify.SetAction(result => Run(() => Verify(result.GetValue(dir)!, result.GetValue(verifyFile)!)));
        keys.Subcommands.Add(verify);

        var trust = new Command("trust", "Append a key's fingerprint to a known-keys file.");
        var fingerprint = new Argument<string>("FINGERPRINT") { Description = "sha256: and 64 hex digits, as 'show' prints it." };
        var knownFile = new Option<string>("--file") { Description = "The known-keys file.", Required = true };
        var trustName = new Option<string?>("--name") { Description = "The peer's name (its certificate's common name); it cannot then present another key." };
        trust.Arguments.Add(fingerprint);
        trust.Options.Add(knownFile);
        trust.Options.Add(trustName);
        trust.SetAction(result => Run(() => Trust(result.GetValue(knownFile)!, result.GetValue(fingerprint)!, result.GetValue(trustName))));
        keys.Subcommands.Add(trust);

        var psk = new Command("psk", "Write a new 32-byte pre-shared key file (mode 0600); never overwrites.");
        var pskFile = new Argument<string>("FILE") { Description = "The file to create." };
        psk.Arguments.Add(pskFile);
        psk.SetAction(result => Run(() => Psk(result.GetValue(pskFile)!)));
        keys.Subcommands.Add(psk);
        return root;
    }

    private static string DefaultDirectory() =>
        Path.Combine(Environment.GetFolderPath(Environment.SpecialFolder.UserProfile), ".config", "rpcgen", "keys");

    private static int Run(Func<int> action) => CommandRunner.Run(action);

    private static int CreateAuthority(string directory, string name, bool noPassphrase)
    {
        var passphrase = noPassphrase ? null : NewPassphrase("the CA key");
        using var authority = RpcCertificates.CreateAuthority(name);
        var (certificate, key) = RpcKeyFiles.Write(directory, "ca", authority, passphrase);
        Console.WriteLine($"CA {authority.Subject} {RpcCertificates.Fingerprint(authority)}");
        Console.WriteLine($"  certificate {certificate}");
        Console.WriteLine($"  private key {key}{(passphrase is null ? " (no passphrase)" : " (passphrase, Argon2id)")}");
        return 0;
    }

    private static int CreateIdentity(string directory, string name, string? email, bool noPassphrase)
    {
        var caKey = Path.Combine(directory, RpcKeyFiles.AuthorityKeyFile);
        var caPassphrase = RpcKeyFiles.IsEncrypted(caKey) ? Passphrase("the CA key") : null;
        using var authority = RpcKeyFiles.ReadIdentity(Path.Combine(directory, RpcKeyFiles.AuthorityCertificateFile), caKey, caPassphrase);
        var passphrase = noPassphrase ? null : NewPassphrase($"the key of {name}");
        using var identity = RpcCertificates.IssueIdentity(authority, name, email);
        var (certificate, key) = RpcKeyFiles.Write(directory, name, identity, passphrase);
        Console.WriteLine($"{name} {RpcCertificates.Fingerprint(identity)}");
        Console.WriteLine($"  certificate {certificate}");
        Console.WriteLine($"  private key {key}{(passphrase is null ? " (no passphrase)" : " (passphrase, Argon2id)")}");
        return 0;
    }

    private static int Show(string path)
    {
        using var certificate = RpcKeyFiles.ReadCertificate(path);
        Console.WriteLine($"fingerprint {RpcCertificates.Fingerprint(certificate)}");
        Console.WriteLine($"subject     {certificate.Subject}");
        Console.WriteLine($"name        {RpcCertificates.Name(certificate)}");
        Console.WriteLine($"email       {RpcCertificates.Email(certificate) ?? "-"}");
        Console.WriteLine($"issuer      {certificate.Issuer}");
        Console.WriteLine($"valid       {certificate.NotBefore.ToUniversalTime():u} to {certificate.NotAfter.ToUniversalTime():u}");
        Console.WriteLine($"key         {certificate.PublicKey.Oid.FriendlyName} {certificate.GetECDsaPublicKey()?.KeySize ?? 0} bits");
        return 0;
    }

    private static int Verify(string directory, string path)
    {
        using var certificate = RpcKeyFiles.ReadCertificate(path);
        using var authority = RpcKeyFiles.ReadCertificate(Path.Combine(directory, RpcKeyFiles.AuthorityCertificateFile));
        var chainedTo = RpcCertificates.VerifyChain(certificate, new X509Certificate2Collection(authority), out var error);
        if (chainedTo is null)
        {
            Console.Error.WriteLine($"NOT signed by {authority.Subject}: {error}");
            return 2;
        }

        Console.WriteLine($"OK: {RpcCertificates.Name(certificate)} {RpcCertificates.Fingerprint(certificate)} is signed by {chainedTo}");
        return 0;
    }

    private static int Trust(string file, string fingerprint, string? name)
    {
        Console.WriteLine(RpcKnownKeys.Trust(file, fingerprint, name) ? $"added {fingerprint} to {file}" : $"{fingerprint} is already in {file}");
        return 0;
    }

    private static int Psk(string path)
    {
        RpcPskLayer.CreateKeyFile(path);
        Console.WriteLine($"wrote a new 32-byte pre-shared key to {path} (mode 0600); copy it to the other side over a secure channel");
        return 0;
    }

    private static string Passphrase(string what)
    {
        if (Environment.GetEnvironmentVariable(PassphraseVariable) is { Length: > 0 } fromEnvironment)
        {
            return fromEnvironment;
        }

        if (Console.IsInputRedirected)
        {
            throw new InvalidOperationException($"A passphrase for {what} is needed: set {PassphraseVariable}, or run in a terminal.");
        }

        Console.Error.Write($"Passphrase for {what}: ");
        var builder = new System.Text.StringBuilder();
        while (true)
        {
            var key = Console.ReadKey(intercept: true);
            if (key.Key == ConsoleKey.Enter)
            {
                break;
            }

            if (key.Key == ConsoleKey.Backspace)
            {
                if (builder.Length > 0)
                {
                    builder.Length--;
                }

                continue;
            }

            builder.Append(key.KeyChar);
        }

        Console.Error.WriteLine();
        return builder.ToString();
    }

    private static string NewPassphrase(string what)
    {
        var first = Passphrase(what);
        if (first.Length == 0)
        {
            throw new InvalidOperationException("An empty passphrase protects nothing: give one, or pass --no-passphrase.");
        }

        if (Environment.GetEnvironmentVariable(PassphraseVariable) is not { Length: > 0 } && Passphrase(what + " (again)") != first)
        {
            throw new InvalidOperationException("The passphrases differ.");
        }

        return first;
    }
}
