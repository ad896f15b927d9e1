using System.Text.RegularExpressions;
using RpcGen.Capnp.Tests.Infrastructure;

namespace RpcGen.Samples.Tests;

/// <summary>The README's first command, and the NativeAOT claim, checked the way a user would run them.</summary>
[Collection("samples")]
public class QuickstartTests
{
    private static readonly TimeSpan BuildTimeout = TimeSpan.FromMinutes(8);

    [Fact]
    public async Task Dotnet_run_of_the_quickstart_serves_and_calls_over_tcp_and_a_unix_socket()
    {
        var (exitCode, output) = await DotnetProcess.RunAsync("dotnet", "run --no-build --project samples/Quickstart", BuildTimeout);

        Assert.True(exitCode == 0, output);
        Assert.Contains("[tcp://127.0.0.1:", output);
        Assert.Contains("[unix:", output);
        Assert.DoesNotContain("FAIL", output);
        Assert.EndsWith("OK", output.TrimEnd());
    }

    [Fact]
    public async Task The_quickstart_publishes_with_NativeAOT_without_warnings_and_the_binary_runs()
    {
        // NativeAOT links with the platform toolchain; a machine with only the .NET SDK has none.
        if (!new[] { "clang", "gcc", "cc" }.Any(tool => ExternalTool.Find(tool) is not null))
        {
            ExternalTool.Missing("No C toolchain for the NativeAOT link", "apt-get install -y g++ zlib1g-dev (or clang zlib1g-dev)");
        }

        var outputDirectory = Path.Combine(Path.GetTempPath(), $"rpcgen-aot-{Guid.NewGuid():N}");
        try
        {
            var (exitCode, output) = await DotnetProcess.RunAsync(
                "dotnet",
                $"publish samples/Quickstart -c Release -r linux-x64 -o \"{outputDirectory}\" -p:TrimmerSingleWarn=false",
                BuildTimeout);

            Assert.True(exitCode == 0, output);
            var warnings = output.Split('\n')
                .Where(line => Regex.IsMatch(line, @"warning (IL\d{4}|CS\d{4}|CA\d{4})"))
                .Distinct()
                .ToArray();
            Assert.True(warnings.Length == 0, "Trim/AOT/compiler warnings:\n" + string.Join('\n', warnings));

            var binary = Path.Combine(outputDirectory, "Quickstart");
            Assert.True(File.Exists(binary), "No native binary at " + binary);
            var (runExit, runOutput) = await DotnetProcess.RunAsync(binary, string.Empty, TimeSpan.FromMinutes(1));
            Assert.True(runExit == 0, runOutput);
            Assert.EndsWith("OK", runOutput.TrimEnd());
        }
        finally
        {
            if (Directory.Exists(outputDirectory))
            {
                Directory.Delete(outputDirectory, recursive: true);
            }
        }
    }
}
