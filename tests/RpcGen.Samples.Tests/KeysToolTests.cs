namespace RpcGen.Samples.Tests;

/// <summary><c>rpcgen keys</c> run as a user runs it: a CA, an identity, show, verify, trust and psk.</summary>
[Collection("samples")]
public class KeysToolTests
{
    private const string Tool = "run --no-build --project src/RpcGen.Tool --";
    private static readonly TimeSpan Timeout = DotnetProcess.RunTimeout;

    [Fact]
    public async Task The_tool_installs_from_a_local_feed_with_dotnet_tool_install()
    {
        var dir = Directory.CreateTempSubdirectory("rpcgen-tool-").FullName;
        try
        {
            // A version of its own, packed without rebuilding (so nothing shared is rewritten), and
            // installed into a private tool path and package cache.
            var version = $"0.0.0-test{DateTime.UtcNow.Ticks}";
            var feed = Path.Combine(dir, "feed");
            // The configuration this test was built in: the tool was built with it (a project reference).
            var configuration = AppContext.BaseDirectory.Contains($"{Path.DirectorySeparatorChar}Release{Path.DirectorySeparatorChar}", StringComparison.Ordinal) ? "Release" : "Debug";
            var pack = await DotnetProcess.RunAsync("dotnet", $"pack src/RpcGen.Tool --no-build -c {configuration} -o {feed} -p:PackageVersion={version}", Timeout);
            Assert.True(pack.ExitCode == 0, pack.Output);
            var tools = Path.Combine(dir, "tools");
            var install = await RunWithCacheAsync("dotnet", $"tool install RpcGen.Tool --version {version} --add-source {feed} --tool-path {tools}", Path.Combine(dir, "packages"));
            Assert.True(install.ExitCode == 0, install.Output);

            var rpcgen = Path.Combine(tools, OperatingSystem.IsWindows() ? "rpcgen.exe" : "rpcgen");
            var psk = Path.Combine(dir, "psk");
            var run = await DotnetProcess.RunAsync(rpcgen, $"keys psk {psk}", Timeout);
            Assert.True(run.ExitCode == 0, run.Output);
            Assert.Equal(32, new FileInfo(psk).Length);
        }
        finally
        {
            Directory.Delete(dir, recursive: true);
        }
    }

    private static async Task<(int ExitCode, string Output)> RunWithCacheAsync(string fileName, string arguments, string packages)
    {
        var info = DotnetProcess.CreateStartInfo(fileName, arguments);
        info.Environment["NUGET_PACKAGES"] = packages;
        info.RedirectStandardOutput = true;
        info.RedirectStandardError = true;
        using var process = System.Diagnostics.Process.Start(info)!;
        var output = process.StandardOutput.ReadToEndAsync();
        var error = process.StandardError.ReadToEndAsync();
        await process.WaitForExitAsync().WaitAsync(Timeout);
        return (process.ExitCode, await output + await error);
    }

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
