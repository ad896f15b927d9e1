using System.Security.Cryptography;
using System.Text;
using RpcGen.Benchmarks.Harness;

namespace RpcGen.Benchmarks.Capnp;

/// <summary>
/// Builds <c>bench-server</c> and <c>bench-client</c> from <c>Native/</c> with the C++ reference
/// implementation (<c>capnp compile -oc++</c>, then <c>g++ -O2</c> against pkg-config <c>capnp-rpc</c>)
/// into <c>$TMPDIR/rpcgen-bench-capnp/&lt;hash&gt;</c>, where the hash covers the sources, the flags and
/// the tool versions, so an unchanged build is reused.
/// </summary>
public static class CppBenchPrograms
{
    /// <summary>What to install when a tool is missing.</summary>
    public const string InstallHint = "apt-get install -y capnproto libcapnp-dev g++ pkg-config";

    /// <summary>The server program's file name (and its source's, with <c>.c++</c>).</summary>
    public const string Server = "bench-server";

    /// <summary>The client program's file name (and its source's, with <c>.c++</c>).</summary>
    public const string Client = "bench-client";

    private const string Schema = "bench.capnp";

    private static readonly string[] CompileFlags = ["-std=c++17", "-O2", "-DNDEBUG"];

    private static readonly TimeSpan ToolTimeout = TimeSpan.FromMinutes(3);

    /// <summary>Where the sources are copied next to the harness binary.</summary>
    public static string SourceDirectory => Path.Combine(AppContext.BaseDirectory, "Capnp", "Native");

    /// <summary>Builds both programs (or finds the build of the same inputs) and returns the directory holding them.</summary>
    /// <exception cref="CppToolsMissingException">capnp, g++, pkg-config or capnp-rpc is not installed.</exception>
    public static async Task<string> BuildAsync()
    {
        var capnp = Require("capnp");
        var gxx = Require("g++");
        var pkgConfig = Require("pkg-config");
        var flags = await NativeProcess.RunAsync(pkgConfig, ["--cflags", "--libs", "capnp-rpc"], ToolTimeout).ConfigureAwait(false);
        if (flags.ExitCode != 0)
        {
            throw new CppToolsMissingException($"pkg-config knows no capnp-rpc ({flags.Stderr.Trim()})");
        }

        var sources = new[] { Schema, Server + ".c++", Client + ".c++" };
        using var hash = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
        hash.AppendData(Encoding.UTF8.GetBytes(string.Join(' ', CompileFlags) + flags.Stdout
            + (await NativeProcess.RunCheckedAsync(capnp, ["--version"], ToolTimeout).ConfigureAwait(false)).Stdout
            + (await NativeProcess.RunCheckedAsync(gxx, ["--version"], ToolTimeout).ConfigureAwait(false)).Stdout.Split('\n')[0]));
        foreach (var source in sources)
        {
            hash.AppendData(await File.ReadAllBytesAsync(Path.Combine(SourceDirectory, source)).ConfigureAwait(false));
        }

        var target = Path.Combine(Path.GetTempPath(), "rpcgen-bench-capnp", Convert.ToHexString(hash.GetHashAndReset())[..16].ToLowerInvariant());
        if (IsComplete(target))
        {
            return target;
        }

        // Built in a private directory and moved into place, so a concurrent run never sees half a build.
        var work = target + ".building-" + Guid.NewGuid().ToString("N");
        Directory.CreateDirectory(work);
        try
        {
            foreach (var source in sources)
            {
                File.Copy(Path.Combine(SourceDirectory, source), Path.Combine(work, source));
            }

            var allFlags = flags.Stdout.Split(' ', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
            string[] cflags = [.. CompileFlags, .. allFlags.Where(f => !f.StartsWith("-l", StringComparison.Ordinal))];
            await NativeProcess.RunCheckedAsync(capnp, ["compile", "-oc++", Schema], ToolTimeout, work).ConfigureAwait(false);
            await NativeProcess.RunCheckedAsync(gxx, [.. cflags, "-c", Schema + ".c++", "-o", "schema.o"], ToolTimeout, work).ConfigureAwait(false);
            await Task.WhenAll(
                NativeProcess.RunCheckedAsync(gxx, [.. CompileFlags, "-I.", Server + ".c++", "schema.o", "-o", Server, .. allFlags], ToolTimeout, work),
                NativeProcess.RunCheckedAsync(gxx, [.. CompileFlags, "-I.", Client + ".c++", "schema.o", "-o", Client, .. allFlags], ToolTimeout, work)).ConfigureAwait(false);
            try
            {
                Directory.Move(work, target);
            }
            catch (IOException) when (IsComplete(target))
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

    private static bool IsComplete(string directory) =>
        File.Exists(Path.Combine(directory, Server)) && File.Exists(Path.Combine(directory, Client));

    private static string Require(string tool) =>
        NativeProcess.FindOnPath(tool) ?? throw new CppToolsMissingException($"'{tool}' was not found on PATH");
}
