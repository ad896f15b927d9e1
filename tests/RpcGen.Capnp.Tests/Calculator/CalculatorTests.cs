using RpcGen.Capnp.Tests.Infrastructure;
using RpcGen.Capnp.Tests.Layout;
using RpcGen.Links;
using RpcGen.Samples.Calculator;

namespace RpcGen.Capnp.Tests.Calculator;

/// <summary>
/// The Calculator protocol of Cap'n Proto's C++ samples as a C# contract (<c>samples/Calculator</c>:
/// the generated binding, the server and the client checks), against C++ calculator
/// peers in both directions, over TCP and Unix sockets. The C++ peers are ours
/// (<c>interop/calculator</c>), or the repository's own samples when
/// <see cref="CppPeers.CalculatorSamplesVariable"/> names a directory holding them.
/// </summary>
public sealed class CalculatorTests
{
    private static readonly TimeSpan Timeout = TimeSpan.FromSeconds(30);

    public static TheoryData<string> Transports => ["tcp", "unix"];

    [Fact]
    public async Task The_exported_schema_lays_out_like_calculator_capnp()
    {
        var original = await CapnpTool.CompileAsync(Path.Combine(CapnpTool.InteropDirectory, "calculator", "calculator.capnp"));
        var exported = await CapnpTool.CompileTextAsync(CapnpServiceRegistry.Schema<ICalculator>());

        LayoutAssert.SameAsCompiled(original["Expression"], exported["Expression"]);
        LayoutAssert.SameAsCompiler(exported["Expression"], CapnpLayout.Compute(new StructShape("Expression",
        [
            new UnionShape(string.Empty,
            [
                new FieldShape("literal", 0, CapnpFieldType.Float64),
                new FieldShape("previousResult", 1, CapnpFieldType.InterfaceNamed("Value")),
                new FieldShape("parameter", 2, CapnpFieldType.UInt32),
                new GroupShape("call", [new FieldShape("function", 3, CapnpFieldType.InterfaceNamed("Function")), new FieldShape("params", 4, CapnpFieldType.ListOf(CapnpFieldType.StructNamed("Expression")))]),
            ]),
        ])));
        Assert.Equal(0x97983392df35cc36ul, CapnpServiceRegistry.InterfaceId<ICalculator>());

        // The ids pinned with [RpcService] and [RpcTypeId] are calculator.capnp's.
        var schema = CapnpServiceRegistry.Schema<ICalculator>();
        Assert.Contains("interface Calculator @0x97983392df35cc36 {", schema);
        Assert.Contains("struct Expression @0xd438d7caf5548d15 {", schema);
        Assert.Contains("enum Operator @0x8793407861e6dfe6 {", schema);
        Assert.Contains("interface Value @0xc3e69d34d3ee48d2 {", schema);
    }

    [Fact]
    public async Task The_generated_codec_writes_what_capnp_decodes_and_reads_what_capnp_encodes()
    {
        var schema = await CapnpTool.WriteSchemaAsync(CapnpServiceRegistry.Schema<ICalculator>());
        var expression = new Expression.Call(null!, [new Expression.Literal(2.5), new Expression.Parameter(7), new Expression.Call(null!, [])]);
        using (var builder = new CapnpMessageBuilder())
        {
            CalculatorCapnp.Codec.WriteExpression(builder.Root.InitStruct(CalculatorCapnp.Codec.ExpressionDataWords, CalculatorCapnp.Codec.ExpressionPointerCount), expression);
            var decoded = await CapnpTool.DecodeAsync(schema, "Expression", CapnpFraming.ToArray(builder));
            Assert.Equal("(call = (params = [(literal = 2.5), (parameter = 7), (call = (params = []))]))", decoded);
        }

        var encoded = await CapnpTool.EncodeAsync(schema, "Expression", "(call = (params = [(parameter = 3), (literal = -1)]))");
        var read = CalculatorCapnp.Codec.ReadExpression(CapnpFraming.Read(encoded, null, out _).GetRoot());
        var call = Assert.IsType<Expression.Call>(read);
        Assert.Null(call.Function);
        Assert.Equal([new Expression.Parameter(3), new Expression.Literal(-1)], call.Params);
    }

    [Fact]
    public async Task The_same_contract_passes_the_checks_over_the_message_transport()
    {
        await using var server = new RpcGen.Transport.Message.RpcServer();
        server.AddService<ICalculator>(new CalculatorService());
        await server.StartAsync("tcp://127.0.0.1:0");
        await using var client = await RpcGen.Transport.Message.RpcClient.ConnectAsync(server.Addresses[0]).WaitAsync(Timeout);

        var results = await CalculatorChecks.RunAsync(client.GetService<ICalculator>(), Timeout);

        Assert.True(results.All(result => result.Passed), string.Join('\n', results));
    }

    [Fact]
    public async Task An_unknown_union_member_fails_that_call_and_the_connection_goes_on()
    {
        var (clientLink, serverLink) = RpcLinks.CreateMemoryPair();
        using var bootstrap = CapnpServiceRegistry.ToCapability<ICalculator>(new CalculatorService());
        await using var server = CapnpConnection.Start(serverLink, new CapnpConnectionOptions { Bootstrap = bootstrap });
        await using var client = CapnpConnection.Start(clientLink);
        using var calculator = client.Bootstrap();

        // evaluate() with an Expression whose union discriminant names no member.
        using (var request = calculator.NewRequest(CalculatorCapnp.InterfaceId, 0))
        {
            request.InitParams(0, 1).InitStruct(0, CalculatorCapnp.Codec.ExpressionDataWords, CalculatorCapnp.Codec.ExpressionPointerCount).WriteUInt16(4, 9);
            using var promise = request.Send();
            var error = await Assert.ThrowsAsync<RpcException>(() => promise.Response.WaitAsync(Timeout));
            Assert.Contains("unknown union member", error.Message);
        }

        var proxy = CapnpServiceRegistry.ToService<ICalculator>(calculator.Dup());
        Assert.Equal(7, await proxy.Evaluate(new Expression.Literal(7)).ReadAsync().WaitAsync(Timeout));
    }

    [Fact]
    public async Task Our_client_and_our_server_in_process()
    {
        var (clientLink, serverLink) = RpcLinks.CreateMemoryPair();
        using var bootstrap = CapnpServiceRegistry.ToCapability<ICalculator>(new CalculatorService());
        await using var server = CapnpConnection.Start(serverLink, new CapnpConnectionOptions { Bootstrap = bootstrap });
        await using var client = CapnpConnection.Start(clientLink);
        using var calculator = (ICapnpProxy)client.Bootstrap<ICalculator>();

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
            using var calculator = (ICapnpProxy)connection.Bootstrap<ICalculator>();
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
            var calculator = connection.Bootstrap<ICalculator>();
            var add = calculator.GetOperator(Operator.Add);
            var multiply = calculator.GetOperator(Operator.Multiply);

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
        var socketPath = transport == "unix" ? Path.Combine(Path.GetTempPath(), $"rpcgen-calc-{Guid.NewGuid():N}.sock") : null;
        await using var server = CapnpServer.Listen<ICalculator>(socketPath is null ? "tcp://127.0.0.1:0" : "unix:" + socketPath, new CalculatorService());
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

    [Theory]
    [InlineData("tls://127.0.0.1:0")]
    [InlineData("tls+unix:")]
    public async Task Calculator_checks_pass_over_mutual_tls(string listen)
    {
        var authority = RpcGen.Security.RpcCertificates.CreateAuthority("Calculator CA");
        RpcGen.Security.RpcTlsOptions Tls(string name) => new()
        {
            Certificate = RpcGen.Security.RpcCertificates.IssueIdentity(authority, name),
            CertificateAuthorities = [authority],
        };
        var socketPath = listen == "tls+unix:" ? Path.Combine(Path.GetTempPath(), $"rpcgen-calc-{Guid.NewGuid():N}.sock") : null;
        await using var server = CapnpServer.Listen<ICalculator>(socketPath is null ? listen : listen + socketPath, new CalculatorService(), new CapnpConnectionOptions { Tls = Tls("server") });
        try
        {
            Assert.StartsWith("tls", server.Address);
            await using var connection = await CapnpConnection.ConnectAsync(server.Address, new CapnpConnectionOptions { Tls = Tls("client") }).WaitAsync(Timeout);
            using var calculator = (ICapnpProxy)connection.Bootstrap<ICalculator>();
            await AssertAllChecksPassAsync(calculator);

            var refused = await Assert.ThrowsAsync<InvalidOperationException>(() => CapnpConnection.ConnectAsync(server.Address, new CapnpConnectionOptions()).WaitAsync(Timeout));
            Assert.Contains("TLS address", refused.Message);
        }
        finally
        {
            DeleteSocket(socketPath);
        }
    }

    private static async Task AssertAllChecksPassAsync(ICapnpProxy calculator)
    {
        var results = await CalculatorChecks.RunAsync((ICalculator)calculator, Timeout);

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
