using RpcGen.Capnp.Tests.Infrastructure;

namespace RpcGen.Capnp.Tests.Imported;

/// <summary>
/// <c>ImportedCalculator.cs</c> is what <c>rpcgen capnp import calculator.capnp --namespace
/// RpcGen.Capnp.Tests.Imported</c> writes (RpcGen.Samples.Tests checks the tool still writes exactly
/// that). Compiled here with the generator, it serves the C++ calculator client unchanged, and its
/// export lays out as <c>calculator.capnp</c> does.
/// </summary>
public sealed class ContractImportTests
{
    private static readonly TimeSpan Timeout = TimeSpan.FromSeconds(30);

    [Theory]
    [InlineData("tcp")]
    [InlineData("unix")]
    public async Task The_imported_calculator_contract_serves_the_cpp_calculator_client(string transport)
    {
        var socket = Path.Combine(Path.GetTempPath(), $"rpcgen-imported-{Guid.NewGuid():N}.sock");
        try
        {
            await using var server = CapnpServer.Listen<ICalculator>(transport == "unix" ? "unix:" + socket : "tcp://127.0.0.1:0", new ImportedCalculatorService());
            var address = transport == "unix" ? "unix:" + socket : server.Address["tcp://".Length..];
            await using var client = PeerProcess.Start(await CppPeers.CalculatorPathOfAsync("calculator-client"), address);
            var exit = await client.WaitForExitAsync(Timeout);

            Assert.True(exit == 0, string.Join('\n', client.Output) + "\n" + await client.StderrSoFarAsync());
            Assert.Equal(5, client.Output.Count(line => line.EndsWith("PASS", StringComparison.Ordinal)));
        }
        finally
        {
            File.Delete(socket);
        }
    }

    [Fact]
    public async Task Import_then_export_compiles_to_the_same_schema_as_calculator_capnp()
    {
        // The export of the imported contract, with this assembly's other services: only the
        // calculator's declarations are compared, and they are nested as the original nests them.
        var exported = CapnpContractSchemaAttribute.Of(typeof(ICalculator).Assembly)!;
        var theirs = await CapnpTool.CompileAsync(Path.Combine(CapnpTool.InteropDirectory, "calculator", "calculator.capnp"));
        var ours = await CapnpTool.CompileTextAsync(exported);
        foreach (var name in new[] { "Expression" })
        {
            Layout.LayoutAssert.SameAsCompiled(theirs[name], ours[name]);
        }

        Assert.Contains("interface Calculator @0x97983392df35cc36 {\n  evaluate @0 (expression :Calculator.Expression) -> (value :Calculator.Value);", exported);
        Assert.Contains("  struct Expression @0xd438d7caf5548d15 {", exported);
        Assert.Contains("  interface Value @0xc3e69d34d3ee48d2 {\n    read @0 () -> (result :Float64);", exported);
        Assert.Contains("  interface Function @0xede83a3d96840394 {\n    call @0 (params :List(Float64)) -> (result :Float64);", exported);
        Assert.Contains("  enum Operator @0x8793407861e6dfe6 {\n    add @0;\n    subtract @1;\n    multiply @2;\n    divide @3;\n  }", exported);
    }
}
