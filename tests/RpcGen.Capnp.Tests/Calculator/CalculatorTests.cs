using RpcGen.Capnp.Tests.Infrastructure;
using RpcGen.Capnp.Tests.Layout;
using RpcGen.Links;
using RpcGen.Samples.Calculator;
using static RpcGen.Samples.Calculator.CalculatorProtocol;

namespace RpcGen.Capnp.Tests.Calculator;

/// <summary>
/// The Calculator protocol of Cap'n Proto's C++ samples, hand-bound in C# (the bindings, server and
/// client checks of <c>samples/Calculator</c>), against C++ calculator
/// peers in both directions, over TCP and Unix sockets. The C++ peers are ours
/// (<c>interop/calculator</c>), or the repository's own samples when
/// <see cref="CppPeers.CalculatorSamplesVariable"/> names a directory holding them.
/// </summary>
public sealed class CalculatorTests
{
    private static readonly TimeSpan Timeout = TimeSpan.FromSeconds(30);

    public static TheoryData<string> Transports => ["tcp", "unix"];

    [Fact]
    public async Task Bindings_use_the_layout_the_compiler_gives_calculator_capnp()
    {
        var compiled = await CapnpTool.CompileAsync(Path.Combine(CapnpTool.InteropDirectory, "calculator", "calculator.capnp"));
        LayoutAssert.SameAsCompiler(compiled["Expression"], CalculatorProtocol.Expression);
    }

    [Fact]
    public async Task Our_client_and_our_server_in_process()
    {
        var (clientLink, serverLink) = RpcLinks.CreateMemoryPair();
        using var bootstrap = Capability.FromServer(new CalculatorServer());
        await using var server = CapnpConnection.Start(serverLink, new CapnpConnectionOptions { Bootstrap = bootstrap });
        await using var client = CapnpConnection.Start(clientLink);
        using var calculator = client.Bootstrap();

        await AssertAllChecksPassAsync(calculator);
    }

    [Theory]
    [MemberData(nameof(Transports))]
    public async Task Our_client_against_the_cpp_calculator_server(string transport)
    {
        var (process, address, socketPath) = await StartCppServerAsync(transport);
        await using var _ = process;
        try
        {
            await using var connection = await CapnpConnection.ConnectAsync(address);
            using var calculator = connection.Bootstrap();
            await AssertAllChecksPassAsync(calculator);
        }
        finally
        {
            DeleteSocket(socketPath);
        }
    }

    [Theory]
    [MemberData(nameof(Transports))]
    public async Task Pipelined_evaluations_go_out_before_any_result_comes_back(string transport)
    {
        var (process, address, socketPath) = await StartCppServerAsync(transport);
        await using var _ = process;
        try
        {
            var link = await RpcLinks.ConnectAsync(address);
            var gate = new GatedLink(link, link);
            await using var connection = CapnpConnection.Start(gate);
            var outboundCallsBeforeFirstReply = -1;
            var outboundCalls = 0;
            connection.Trace = (outbound, kind) =>
            {
                if (outbound && kind == RpcSchema.Message.Call)
                {
                    Interlocked.Increment(ref outboundCalls);
                }
                else if (!outbound)
                {
                    Interlocked.CompareExchange(ref outboundCallsBeforeFirstReply, Volatile.Read(ref outboundCalls), -1);
                }
            };
            using var calculator = connection.Bootstrap();
            using var getAdd = GetOperatorFunction(calculator, Operator.Add);
            using var add = getAdd.PipelinedFunction();
            using var getMultiply = GetOperatorFunction(calculator, Operator.Multiply);
            using var multiply = getMultiply.PipelinedFunction();

            var sum = CalculatorChecks.PipelinedSumAsync(calculator, add, multiply);
            gate.Open();

            Assert.Equal(27, await sum.WaitAsync(Timeout));
            Assert.Equal(5, Volatile.Read(ref outboundCallsBeforeFirstReply));
        }
        finally
        {
            DeleteSocket(socketPath);
        }
    }

    [Theory]
    [MemberData(nameof(Transports))]
    public async Task Cpp_calculator_client_against_our_server(string transport)
    {
        using var bootstrap = Capability.FromServer(new CalculatorServer());
        var socketPath = transport == "unix" ? Path.Combine(Path.GetTempPath(), $"rpcgen-calc-{Guid.NewGuid():N}.sock") : null;
        await using var server = CapnpServer.Listen(socketPath is null ? "tcp://127.0.0.1:0" : "unix:" + socketPath, bootstrap);
        try
        {
            var address = socketPath is null ? server.Address["tcp://".Length..] : "unix:" + socketPath;
            await using var client = PeerProcess.Start(await CppPeers.CalculatorPathOfAsync("calculator-client"), address);
            var exit = await client.WaitForExitAsync(Timeout);

            var output = string.Join('\n', client.Output);
            Assert.True(exit == 0, output + "\n" + await client.StderrSoFarAsync());
            Assert.Equal(5, client.Output.Count(line => line.EndsWith("PASS", StringComparison.Ordinal)));
        }
        finally
        {
            DeleteSocket(socketPath);
        }
    }

    private static async Task AssertAllChecksPassAsync(Capability calculator)
    {
        var results = await CalculatorChecks.RunAsync(calculator, Timeout);

        Assert.Equal(CalculatorChecks.All.Count, results.Count);
        Assert.True(results.All(result => result.Passed), string.Join('\n', results));
    }

    private static async Task<(PeerProcess Process, string Address, string? SocketPath)> StartCppServerAsync(string transport)
    {
        var executable = await CppPeers.CalculatorPathOfAsync("calculator-server");

        // The samples' server runs until killed; ours also stops when its stdin closes.
        var exitsOnStdinClose = !CppPeers.UsingCalculatorSamples;
        if (transport == "unix")
        {
            var path = Path.Combine(Path.GetTempPath(), $"rpcgen-calc-{Guid.NewGuid():N}.sock");
            var unixServer = PeerProcess.Start(executable, exitsOnStdinClose, "unix:" + path);
            await unixServer.WaitForLineAsync("Listening", Timeout);
            return (unixServer, "unix:" + path, path);
        }

        var tcpServer = PeerProcess.Start(executable, exitsOnStdinClose, "127.0.0.1:0");
        var line = await tcpServer.WaitForLineAsync("Listening on port ", Timeout);
        var port = line["Listening on port ".Length..].TrimEnd('.');
        return (tcpServer, "tcp://127.0.0.1:" + port, null);
    }

    private static void DeleteSocket(string? path)
    {
        if (path is not null && File.Exists(path))
        {
            File.Delete(path);
        }
    }
}
