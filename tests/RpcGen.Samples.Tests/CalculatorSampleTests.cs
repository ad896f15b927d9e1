using RpcGen.Capnp.Tests.Infrastructure;

namespace RpcGen.Samples.Tests;

/// <summary>
/// <c>samples/Calculator</c> run the way its README commands run it: <c>serve</c> and <c>call</c>
/// against each other, and each against the other half written in C++ on the Cap'n Proto
/// reference implementation (the capnp tests' calculator peers), over TCP and Unix sockets.
/// </summary>
[Collection("samples")]
public sealed class CalculatorSampleTests
{
    private const string Sample = "run --no-build --project samples/Calculator --";
    private static readonly TimeSpan Timeout = DotnetProcess.RunTimeout;
    private static readonly string[] CheckNames = ["Evaluating a literal", "Using add and subtract", "Pipelining eval() calls", "Defining functions", "Using a callback"];

    public static TheoryData<string> Transports => ["tcp", "unix"];

    [Theory]
    [MemberData(nameof(Transports))]
    public async Task Call_passes_all_five_checks_against_serve(string transport)
    {
        var socketPath = SocketPathFor(transport);
        try
        {
            var (server, address) = await ServeAsync(socketPath is null ? "127.0.0.1:0" : "unix:" + socketPath);
            await using var _ = server;

            var (exitCode, output) = await DotnetProcess.RunAsync("dotnet", $"{Sample} call {address}", Timeout);

            AssertAllChecksPassed(exitCode, output);
        }
        finally
        {
            DeleteSocket(socketPath);
        }
    }

    [Theory]
    [MemberData(nameof(Transports))]
    public async Task Call_passes_all_five_checks_against_the_cpp_calculator_server(string transport)
    {
        var socketPath = SocketPathFor(transport);
        var executable = await CppPeers.CalculatorPathOfAsync("calculator-server");

        // The Cap'n Proto samples' server runs until killed; ours also stops when its stdin closes.
        await using var server = PeerProcess.Start(executable, exitsWhenStdinCloses: !CppPeers.UsingCalculatorSamples, socketPath is null ? "127.0.0.1:0" : "unix:" + socketPath);
        try
        {
            var line = await server.WaitForLineAsync("Listening on ", Timeout);
            var address = socketPath is null ? "127.0.0.1:" + line["Listening on port ".Length..].TrimEnd('.') : "unix:" + socketPath;

            var (exitCode, output) = await DotnetProcess.RunAsync("dotnet", $"{Sample} call {address}", Timeout);

            AssertAllChecksPassed(exitCode, output);
        }
        finally
        {
            DeleteSocket(socketPath);
        }
    }

    [Theory]
    [MemberData(nameof(Transports))]
    public async Task The_cpp_calculator_client_passes_its_checks_against_serve(string transport)
    {
        var socketPath = SocketPathFor(transport);
        var executable = await CppPeers.CalculatorPathOfAsync("calculator-client");
        try
        {
            var (server, address) = await ServeAsync(socketPath is null ? "127.0.0.1:0" : "unix:" + socketPath);
            await using var _ = server;

            await using var client = PeerProcess.Start(executable, address);
            var exitCode = await client.WaitForExitAsync(Timeout);

            AssertAllChecksPassed(exitCode, string.Join('\n', client.Output) + "\n" + await client.StderrSoFarAsync());
        }
        finally
        {
            DeleteSocket(socketPath);
        }
    }

    [Fact]
    public async Task The_calculator_publishes_with_NativeAOT_without_warnings_and_serves_the_cpp_client()
    {
        var socketPath = SocketPathFor("unix");
        string? binary = null;
        try
        {
            binary = await NativeAot.PublishAsync("samples/Calculator", "Calculator");
            await using var server = PeerProcess.Start(DotnetProcess.CreateStartInfo(binary, $"serve unix:{socketPath}"), exitsWhenStdinCloses: false);
            await server.WaitForLineAsync("Listening on ", Timeout);

            await using var client = PeerProcess.Start(await CppPeers.CalculatorPathOfAsync("calculator-client"), "unix:" + socketPath);
            var exitCode = await client.WaitForExitAsync(Timeout);

            AssertAllChecksPassed(exitCode, string.Join('\n', client.Output) + "\n" + await client.StderrSoFarAsync());
        }
        finally
        {
            NativeAot.Delete(binary);
            DeleteSocket(socketPath);
        }
    }

    [Fact]
    public async Task Call_without_an_address_prints_the_usage_and_fails()
    {
        var (exitCode, output) = await DotnetProcess.RunAsync("dotnet", $"{Sample} call", Timeout);

        Assert.Equal(2, exitCode);
        Assert.Contains("usage: Calculator serve ADDRESS", output);
    }

    [Fact]
    public async Task Call_to_an_address_nothing_listens_on_says_so_and_fails()
    {
        var socketPath = SocketPathFor("unix");

        var (exitCode, output) = await DotnetProcess.RunAsync("dotnet", $"{Sample} call unix:{socketPath}", Timeout);

        Assert.Equal(1, exitCode);
        Assert.Contains($"Could not connect to unix:{socketPath}", output);
        Assert.DoesNotContain("PASS", output);
    }

    /// <summary>Starts <c>serve</c> and waits for its "Listening on ADDRESS" line; disposing the process kills it by id.</summary>
    private static async Task<(PeerProcess Server, string Address)> ServeAsync(string bindAddress)
    {
        var server = PeerProcess.Start(DotnetProcess.CreateStartInfo("dotnet", $"{Sample} serve {bindAddress}"), exitsWhenStdinCloses: false);
        try
        {
            var line = await server.WaitForLineAsync("Listening on ", Timeout);
            return (server, line["Listening on ".Length..]);
        }
        catch
        {
            await server.DisposeAsync();
            throw;
        }
    }

    private static void AssertAllChecksPassed(int exitCode, string output)
    {
        Assert.True(exitCode == 0, $"exit code {exitCode}:\n{output}");
        var lines = output.Split('\n', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries);
        foreach (var name in CheckNames)
        {
            Assert.Contains($"{name}... PASS", lines);
        }

        Assert.DoesNotContain("FAIL", output);
    }

    private static string? SocketPathFor(string transport) =>
        transport == "unix" ? Path.Combine(Path.GetTempPath(), $"rpcgen-calculator-{Guid.NewGuid():N}.sock") : null;

    private static void DeleteSocket(string? path)
    {
        if (path is not null && File.Exists(path))
        {
            File.Delete(path);
        }
    }
}
