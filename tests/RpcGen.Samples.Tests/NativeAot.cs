using System.Text.RegularExpressions;
using RpcGen.Capnp.Tests.Infrastructure;

namespace RpcGen.Samples.Tests;

/// <summary>Publishes a sample with NativeAOT and insists on a clean publish.</summary>
internal static class NativeAot
{

    /// <summary>
    /// Publishes <paramref name="project"/> (a path under the repository) for linux-x64 into a new
    /// temporary directory, asserts that no trim, AOT or compiler warning was printed, and returns
    /// the path of the native binary. Delete <see cref="Path.GetDirectoryName(string)"/> of it afterwards.
    /// </summary>
    public static Task<string> PublishAsync(string project, string binaryName) => PublishAsync(project, binaryName, workingDirectory: null, extraArguments: string.Empty);

    /// <summary>
    /// <see cref="PublishAsync(string, string)"/> for a project outside the repository (relative to
    /// <paramref name="workingDirectory"/>), with more <paramref name="extraArguments"/> for <c>dotnet publish</c>.
    /// </summary>
    public static async Task<string> PublishAsync(string project, string binaryName, string? workingDirectory, string extraArguments)
    {
        // NativeAOT links with the platform toolchain; a machine with only the .NET SDK has none.
        if (!new[] { "clang", "gcc", "cc" }.Any(tool => ExternalTool.Find(tool) is not null))
        {
            ExternalTool.Missing("No C toolchain for the NativeAOT link", "apt-get install -y g++ zlib1g-dev (or clang zlib1g-dev)");
        }

        var outputDirectory = Path.Combine(Path.GetTempPath(), $"rpcgen-aot-{Guid.NewGuid():N}");
        var (exitCode, output) = await DotnetProcess.RunAsync(
            "dotnet",
            $"publish {project} -c Release -r linux-x64 -o \"{outputDirectory}\" -p:TrimmerSingleWarn=false {extraArguments}",
            DotnetProcess.BuildTimeout,
            workingDirectory);

        Assert.True(exitCode == 0, output);
        var warnings = output.Split('\n')
            .Where(line => Regex.IsMatch(line, @"warning (IL\d{4}|CS\d{4}|CA\d{4})"))
            .Distinct()
            .ToArray();
        Assert.True(warnings.Length == 0, "Trim/AOT/compiler warnings:\n" + string.Join('\n', warnings));

        var binary = Path.Combine(outputDirectory, binaryName);
        Assert.True(File.Exists(binary), "No native binary at " + binary);
        return binary;
    }

    /// <summary>Deletes what <see cref="PublishAsync"/> wrote.</summary>
    public static void Delete(string? binary)
    {
        if (binary is not null && Path.GetDirectoryName(binary) is { } directory && Directory.Exists(directory))
        {
            Directory.Delete(directory, recursive: true);
        }
    }
}
