using System.Security.Cryptography;

namespace RpcGen.Capnp.Tests.Infrastructure;

/// <summary>
/// Builds C++ interop peers with the C++ reference implementation, once per content: each build
/// goes to a directory named by a hash of the sources and the tool versions, so unchanged peers are
/// not rebuilt (and a CI cache of the temp directory makes them free).
/// </summary>
internal static class CppPeers
{
    private const string InstallHint = "apt-get install -y capnproto libcapnp-dev g++ pkg-config";

    /// <summary>
    /// Set this to a directory holding <c>calculator.capnp</c>, <c>calculator-server.c++</c> and
    /// <c>calculator-client.c++</c> (the C++ samples of the Cap'n Proto repository) to run the
    /// calculator interop tests against those instead of our own C++ calculator peers.
    /// </summary>
    public const string CalculatorSamplesVariable = "RPCGEN_CAPNP_CALCULATOR_SAMPLES";

    private static readonly Lazy<Task<string>> s_test = new(() => BuildAsync(
        "test",
        Path.Combine(CapnpTool.InteropDirectory, "test.capnp"),
        [("test-server", Path.Combine(CapnpTool.InteropDirectory, "peers", "test-server.c++")), ("test-client", Path.Combine(CapnpTool.InteropDirectory, "peers", "test-client.c++"))]));

    private static readonly Lazy<Task<string>> s_calculator = new(() =>
    {
        var directory = Environment.GetEnvironmentVariable(CalculatorSamplesVariable) is { Length: > 0 } samples
            ? samples
            : Path.Combine(CapnpTool.InteropDirectory, "calculator");
        return BuildAsync(
            "calculator",
            Path.Combine(directory, "calculator.capnp"),
            [("calculator-server", Path.Combine(directory, "calculator-server.c++")), ("calculator-client", Path.Combine(directory, "calculator-client.c++"))]);
    });

    /// <summary>True when the calculator peers are the Cap'n Proto samples rather than ours.</summary>
    public static bool UsingCalculatorSamples => Environment.GetEnvironmentVariable(CalculatorSamplesVariable) is { Length: > 0 };

    /// <summary>Path of a test peer (<c>test-server</c>, <c>test-client</c>).</summary>
    public static async Task<string> PathOfAsync(string peer) => Path.Combine(await s_test.Value, peer);

    /// <summary>Path of a calculator peer (<c>calculator-server</c>, <c>calculator-client</c>).</summary>
    public static async Task<string> CalculatorPathOfAsync(string peer) => Path.Combine(await s_calculator.Value, peer);

    /// <summary>
    /// Compiles <paramref name="schema"/> with <c>capnp compile -oc++</c> and links each peer source against it (a peer
    /// includes <c>{schema file name}.h</c>); returns the directory holding the executables.
    /// </summary>
    internal static async Task<string> BuildAsync(string name, string schema, (string Executable, string Source)[] peers)
    {
        var capnp = ExternalTool.Require("capnp", InstallHint);
        var gxx = ExternalTool.Require("g++", InstallHint);
        var pkgConfig = ExternalTool.Require("pkg-config", InstallHint);
        var flags = await ExternalTool.RunAsync(pkgConfig, ["--cflags", "--libs", "capnp-rpc"]);
        if (flags.ExitCode != 0)
        {
            ExternalTool.Missing($"pkg-config knows no capnp-rpc ({flags.Stderr.Trim()})", InstallHint);
        }

        var versions = (await ExternalTool.RunCheckedAsync(capnp, ["--version"])).StdoutText
            + (await ExternalTool.RunCheckedAsync(gxx, ["--version"])).StdoutText.Split('\n')[0]
            + flags.StdoutText;
        using var hash = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
        hash.AppendData(System.Text.Encoding.UTF8.GetBytes(name + versions));
        foreach (var source in peers.Select(p => p.Source).Prepend(schema))
        {
            hash.AppendData(await File.ReadAllBytesAsync(source));
        }

        var root = Path.Combine(Path.GetTempPath(), "rpcgen-capnp-peers");
        var target = Path.Combine(root, name + "-" + Convert.ToHexString(hash.GetHashAndReset())[..16].ToLowerInvariant());
        if (peers.All(p => File.Exists(Path.Combine(target, p.Executable))))
        {
            return target;
        }

        // Build in a private directory, then move it into place: concurrent runs never see half a build.
        var work = target + ".building-" + Guid.NewGuid().ToString("N");
        Directory.CreateDirectory(work);
        try
        {
            var schemaFile = Path.GetFileName(schema);
            File.Copy(schema, Path.Combine(work, schemaFile));
            await ExternalTool.RunCheckedAsync(capnp, ["compile", "-oc++", schemaFile], workingDirectory: work);
            var allFlags = flags.StdoutText.Split(' ', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
            var timeout = TimeSpan.FromMinutes(5);
            await ExternalTool.RunCheckedAsync(
                gxx,
                ["-std=c++17", "-O0", "-c", schemaFile + ".c++", "-o", "schema.o", .. allFlags.Where(f => !f.StartsWith("-l", StringComparison.Ordinal))],
                workingDirectory: work,
                timeout: timeout);
            await Task.WhenAll(peers.Select(peer => ExternalTool.RunCheckedAsync(
                gxx,
                ["-std=c++17", "-O0", "-I.", peer.Source, "schema.o", "-o", peer.Executable, .. allFlags],
                workingDirectory: work,
                timeout: timeout)));
            try
            {
                Directory.Move(work, target);
            }
            catch (IOException) when (peers.All(p => File.Exists(Path.Combine(target, p.Executable))))
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
