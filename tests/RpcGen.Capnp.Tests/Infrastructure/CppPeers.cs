using System.Security.Cryptography;

namespace RpcGen.Capnp.Tests.Infrastructure;

/// <summary>
/// Builds the C++ interop peers (<c>interop/peers/*.c++</c> against <c>interop/test.capnp</c>) with
/// the C++ reference implementation, once per content: the build goes to a directory named by a
/// hash of the sources and the tool versions, so unchanged peers are not rebuilt.
/// </summary>
internal static class CppPeers
{
    private const string InstallHint = "apt-get install -y capnproto libcapnp-dev g++ pkg-config";
    private static readonly string[] Peers = ["test-server", "test-client"];
    private static readonly Lazy<Task<string>> s_build = new(BuildAsync);

    /// <summary>The directory holding the built peer executables.</summary>
    public static Task<string> DirectoryAsync() => s_build.Value;

    public static async Task<string> PathOfAsync(string peer) => Path.Combine(await DirectoryAsync(), peer);

    private static async Task<string> BuildAsync()
    {
        var capnp = ExternalTool.Require("capnp", InstallHint);
        var gxx = ExternalTool.Require("g++", InstallHint);
        var pkgConfig = ExternalTool.Require("pkg-config", InstallHint);
        var interop = CapnpTool.InteropDirectory;
        var sources = new[] { Path.Combine(interop, "test.capnp") }
            .Concat(Peers.Select(p => Path.Combine(interop, "peers", p + ".c++")))
            .ToArray();

        var flags = await ExternalTool.RunAsync(pkgConfig, ["--cflags", "--libs", "capnp-rpc"]);
        if (flags.ExitCode != 0)
        {
            Assert.Fail($"pkg-config knows no capnp-rpc; install the C++ library: {InstallHint}\n{flags.Stderr}");
        }

        var versions = (await ExternalTool.RunCheckedAsync(capnp, ["--version"])).StdoutText
            + (await ExternalTool.RunCheckedAsync(gxx, ["--version"])).StdoutText.Split('\n')[0]
            + flags.StdoutText;
        using var hash = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
        hash.AppendData(System.Text.Encoding.UTF8.GetBytes(versions));
        foreach (var source in sources)
        {
            hash.AppendData(await File.ReadAllBytesAsync(source));
        }

        var key = Convert.ToHexString(hash.GetHashAndReset())[..16].ToLowerInvariant();
        var root = Path.Combine(Path.GetTempPath(), "rpcgen-capnp-peers");
        var target = Path.Combine(root, key);
        if (Peers.All(p => File.Exists(Path.Combine(target, p))))
        {
            return target;
        }

        // Build in a private directory, then move it into place: concurrent test runs never see half a build.
        var work = Path.Combine(root, key + ".building-" + Guid.NewGuid().ToString("N"));
        Directory.CreateDirectory(work);
        try
        {
            File.Copy(sources[0], Path.Combine(work, "test.capnp"));
            await ExternalTool.RunCheckedAsync(capnp, ["compile", "-oc++", "test.capnp"], workingDirectory: work);
            var linkFlags = flags.StdoutText.Split(' ', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
            var timeout = TimeSpan.FromMinutes(5);
            await ExternalTool.RunCheckedAsync(gxx, ["-std=c++17", "-O0", "-c", "test.capnp.c++", "-o", "test.capnp.o", .. linkFlags.Where(f => !f.StartsWith("-l", StringComparison.Ordinal))], workingDirectory: work, timeout: timeout);
            await Task.WhenAll(Peers.Select((peer, i) => ExternalTool.RunCheckedAsync(
                gxx,
                ["-std=c++17", "-O0", "-I.", sources[i + 1], "test.capnp.o", "-o", peer, .. linkFlags],
                workingDirectory: work,
                timeout: timeout)));
            try
            {
                Directory.Move(work, target);
            }
            catch (IOException) when (Peers.All(p => File.Exists(Path.Combine(target, p))))
            {
                // Another run finished the same build first.
                Directory.Delete(work, recursive: true);
            }
        }
        catch
        {
            if (Directory.Exists(work))
            {
                Directory.Delete(work, recursive: true);
            }

            throw;
        }

        return target;
    }
}
