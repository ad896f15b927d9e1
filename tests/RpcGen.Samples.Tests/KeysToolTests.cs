namespace RpcGen.Samples.Tests;

/// <summary><c>rpcgen keys</c> run as a user runs it: a CA, an identity, show, verify, trust and psk.</summary>
[Collection("samples")]
public class KeysToolTests
{
    private const string Tool = "run --no-build --project src/RpcGen.Tool --";
    private static readonly TimeSpan Timeout = TimeSpan.FromMinutes(2);

    [Fact]
    public async Task Keys_commands_make_a_ca_and_identity_and_never_print_a_private_key()
    {
        var dir = Directory.CreateTempSubdirectory("rpcgen-keys-").FullName;
        try
        {
            var keys = Path.Combine(dir, "keys");
            var all = new System.Text.StringBuilder();
            async Task<(int Exit, string Output)> RunAsync(string arguments)
            {
                var result = await DotnetProcess.RunAsync("dotnet", $"{Tool} {arguments}", Timeout);
                all.AppendLine(result.Output);
                return result;
            }

            Assert.Equal(0, (await RunAsync($"keys ca --dir {keys} --name \"Tool CA\" --no-passphrase")).Exit);
            var created = await RunAsync($"keys new alice --email alice@example.test --dir {keys} --no-passphrase");
            Assert.True(created.Exit == 0, created.Output);
            var fingerprint = created.Output.Split(' ', '\n').First(word => word.StartsWith("sha256:", StringComparison.Ordinal)).Trim();

            var show = await RunAsync($"keys show {Path.Combine(keys, "alice.crt")}");
            Assert.Contains("fingerprint " + fingerprint, show.Output);
            Assert.Contains("alice@example.test", show.Output);
            Assert.Equal(0, (await RunAsync($"keys verify {Path.Combine(keys, "alice.crt")} --dir {keys}")).Exit);
            Assert.Equal(2, (await RunAsync($"keys verify {Path.Combine(keys, "ca.crt")} --dir {keys}")).Exit);

            var known = Path.Combine(dir, "known_client_keys");
            Assert.Equal(0, (await RunAsync($"keys trust {fingerprint} --file {known} --name alice")).Exit);
            Assert.StartsWith(fingerprint + "\talice\t", File.ReadAllText(known));

            var psk = Path.Combine(dir, "psk");
            Assert.Equal(0, (await RunAsync($"keys psk {psk}")).Exit);
            Assert.Equal(32, new FileInfo(psk).Length);
            Assert.Equal(1, (await RunAsync($"keys psk {psk}")).Exit);
            if (!OperatingSystem.IsWindows())
            {
                Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite, File.GetUnixFileMode(Path.Combine(keys, "alice.key")));
            }

            Assert.DoesNotContain("PRIVATE KEY", all.ToString());
        }
        finally
        {
            Directory.Delete(dir, recursive: true);
        }
    }
}
