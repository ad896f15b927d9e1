using RpcGen.Capnp.Tests.Infrastructure;

namespace RpcGen.Samples.Tests;

/// <summary><c>rpcgen capnp export</c> run as a user runs it, on the Calculator sample's assembly.</summary>
[Collection("samples")]
public class CapnpToolTests
{
    private const string Tool = "run --no-build --project src/RpcGen.Tool --";
    private static readonly TimeSpan Timeout = TimeSpan.FromMinutes(2);

    private static string Configuration =>
        AppContext.BaseDirectory.Contains($"{Path.DirectorySeparatorChar}Release{Path.DirectorySeparatorChar}", StringComparison.Ordinal) ? "Release" : "Debug";

    private static string CalculatorAssembly =>
        Path.Combine(DotnetProcess.RepositoryRoot, "samples", "Calculator", "bin", Configuration, "net10.0", "Calculator.dll");

    [Fact]
    public async Task Export_of_the_calculator_sample_lays_out_and_numbers_as_capnps_own_calculator_schema()
    {
        var dir = Directory.CreateTempSubdirectory("rpcgen-capnp-export-").FullName;
        try
        {
            var exported = Path.Combine(dir, "exported.capnp");
            var run = await DotnetProcess.RunAsync("dotnet", $"{Tool} capnp export {CalculatorAssembly} --out {exported}", Timeout);
            Assert.True(run.ExitCode == 0, run.Output);

            var capnp = ExternalTool.Require("capnp", "apt-get install -y capnproto");
            File.Copy(Path.Combine(CapnpTool.InteropDirectory, "calculator", "calculator.capnp"), Path.Combine(dir, "calculator.capnp"));
            var ours = await ExternalTool.RunCheckedAsync(capnp, ["compile", "-ocapnp", "exported.capnp"], workingDirectory: dir);
            var theirs = await ExternalTool.RunCheckedAsync(capnp, ["compile", "-ocapnp", "calculator.capnp"], workingDirectory: dir);

            // Same ids, same field offsets and union tags, same method ordinals and parameters. (The
            // sample does not nest its types in ICalculator, and names results after their types:
            // `-> (function :Function)` where the original says `func`; neither travels on the wire.)
            var expected = Layout(theirs.StdoutText);
            Assert.Equal(17, expected.Count);
            Assert.Equal(expected, Layout(ours.StdoutText));
        }
        finally
        {
            Directory.Delete(dir, recursive: true);
        }
    }

    [Fact]
    public async Task Export_of_an_assembly_with_no_capnp_contract_fails_saying_so()
    {
        var toolAssembly = Path.Combine(DotnetProcess.RepositoryRoot, "src", "RpcGen.Tool", "bin", Configuration, "net10.0", "RpcGen.Tool.dll");
        var run = await DotnetProcess.RunAsync("dotnet", $"{Tool} capnp export {toolAssembly}", Timeout);
        Assert.Equal(1, run.ExitCode);
        Assert.Contains("carries no Cap'n Proto contract", run.Output);
    }

    /// <summary>The declarations with their ids, the layout comments of their fields and the methods up to their results, sorted.</summary>
    private static List<string> Layout(string compiled) =>
        compiled.Split('\n')
            .Select(line => line.Trim())
            .Where(line => line.Contains('#') && !line.StartsWith('#') || line.Contains(" -> ") || line.StartsWith("enum ", StringComparison.Ordinal) || line.StartsWith("interface ", StringComparison.Ordinal))
            .Select(line => line.Contains(" -> ") ? line[..line.IndexOf(" -> ", StringComparison.Ordinal)] : line.TrimEnd('{', ' '))
            .Order(StringComparer.Ordinal)
            .ToList();
}
