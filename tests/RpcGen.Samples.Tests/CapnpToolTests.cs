using RpcGen.Capnp.Tests.Infrastructure;

namespace RpcGen.Samples.Tests;

/// <summary><c>rpcgen capnp export</c> and <c>import</c> run as a user runs them: the Calculator sample's assembly, Cap'n Proto's calculator.capnp.</summary>
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

    [Fact]
    public async Task Import_of_calculator_capnp_writes_the_contract_the_capnp_tests_serve_the_cpp_client_with()
    {
        var dir = Directory.CreateTempSubdirectory("rpcgen-capnp-import-").FullName;
        try
        {
            var contract = Path.Combine(dir, "ImportedCalculator.cs");
            var schema = Path.Combine(CapnpTool.InteropDirectory, "calculator", "calculator.capnp");
            var run = await DotnetProcess.RunAsync("dotnet", $"{Tool} capnp import {schema} --namespace RpcGen.Capnp.Tests.Imported --out {contract}", Timeout);
            Assert.True(run.ExitCode == 0, run.Output);

            // tests/RpcGen.Capnp.Tests/Import/ImportedCalculator.cs is this output, checked in: there it
            // is compiled with the generator and serves the C++ calculator client.
            var approved = Path.Combine(DotnetProcess.RepositoryRoot, "tests", "RpcGen.Capnp.Tests", "Import", "ImportedCalculator.cs");
            Assert.Equal(File.ReadAllText(approved), File.ReadAllText(contract));
        }
        finally
        {
            Directory.Delete(dir, recursive: true);
        }
    }

    [Theory]
    [InlineData("interface Sink { write @0 (data :Data) -> stream; }", "method 'write' is a streaming call")]
    [InlineData("struct Settings { retries @0 :Int32 = 5; }", "field 'retries' has a default value")]
    [InlineData("struct Box(T) { value @0 :T; }", "Box (0x")]
    [InlineData("struct Mixed { id @0 :UInt32; union { a @1 :Void; b @2 :Text; } }", "it has fields beside its union")]
    [InlineData("interface Pair { get @0 () -> (left :Text, right :Text); }", "method 'get' has 2 results")]
    public async Task Import_of_what_a_contract_cannot_carry_fails_naming_the_declaration(string declaration, string expected)
    {
        var dir = Directory.CreateTempSubdirectory("rpcgen-capnp-import-").FullName;
        try
        {
            var schema = Path.Combine(dir, "unsupported.capnp");
            await File.WriteAllTextAsync(schema, "@0xd1f0c0ffee000001;\n" + declaration + "\n");
            var run = await DotnetProcess.RunAsync("dotnet", $"{Tool} capnp import {schema} --namespace Unsupported", Timeout);
            Assert.Equal(1, run.ExitCode);
            Assert.Contains("cannot be imported: ", run.Output);
            Assert.Contains(expected, run.Output);
        }
        finally
        {
            Directory.Delete(dir, recursive: true);
        }
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
