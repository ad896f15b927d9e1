using RpcGen.Capnp.Tests.Infrastructure;

namespace RpcGen.Capnp.Tests.Rpc;

/// <summary>
/// The C++ reference implementation (<c>EzRpcClient</c>) as the client, this implementation
/// (<see cref="CapnpServer"/>) as the server, over TCP and over a Unix socket. Each scenario is one
/// run of <c>interop/peers/test-client.c++</c>, which prints PASS or FAIL with the C++ error.
/// </summary>
public sealed class CppClientInteropTests
{
    private static readonly TimeSpan Timeout = TimeSpan.FromSeconds(30);

    public static TheoryData<string, string> Scenarios()
    {
        var data = new TheoryData<string, string>();
        foreach (var transport in new[] { "tcp", "unix" })
        {
            foreach (var scenario in new[] { "echo", "pipeline", "callback", "promise", "embargo", "errors", "cancel", "release" })
            {
                data.Add(transport, scenario);
            }
        }

        return data;
    }

    [Theory]
    [MemberData(nameof(Scenarios))]
    public async Task Cpp_client_scenario_passes_against_our_server(string transport, string scenario)
    {
        await using var host = await CSharpServer.StartAsync(transport);

        await using var client = PeerProcess.Start(await CppPeers.PathOfAsync("test-client"), host.CppAddress, scenario);
        var line = await client.WaitForLineAsync("", Timeout);
        var exit = await client.WaitForExitAsync(Timeout);

        Assert.True(line == "PASS " + scenario, $"{line}\n{await client.StderrSoFarAsync()}");
        Assert.Equal(0, exit);
    }

    [Theory]
    [InlineData("tcp")]
    [InlineData("unix")]
    public async Task Cpp_client_sees_disconnected_when_our_server_goes_away(string transport)
    {
        var host = await CSharpServer.StartAsync(transport);
        await using var client = PeerProcess.Start(await CppPeers.PathOfAsync("test-client"), host.CppAddress, "disconnect");
        await client.WaitForLineAsync("BLOCKING", Timeout);

        await host.DisposeAsync();

        var line = await client.WaitForLineAsync("", Timeout);
        Assert.True(line == "PASS disconnect", $"{line}\n{await client.StderrSoFarAsync()}");
        Assert.Equal(0, await client.WaitForExitAsync(Timeout));
        await host.Service.BlockCancelled.Task.WaitAsync(Timeout);
    }

    [Theory]
    [InlineData("tcp")]
    [InlineData("unix")]
    public async Task Cpp_client_runs_every_scenario_on_one_connection_and_everything_it_held_is_released(string transport)
    {
        await using var host = await CSharpServer.StartAsync(transport);
        string[] scenarios = ["echo", "pipeline", "callback", "promise", "embargo", "errors", "cancel", "release"];

        await using var client = PeerProcess.Start(await CppPeers.PathOfAsync("test-client"), [host.CppAddress, .. scenarios]);
        var exit = await client.WaitForExitAsync(Timeout);

        Assert.True(exit == 0, string.Join('\n', client.Output) + "\n" + await client.StderrSoFarAsync());
        Assert.Equal(scenarios.Select(s => "PASS " + s), client.Output);

        // The client is gone: its connection ended, and the two counters it obtained were released.
        await TestProtocol.EventuallyAsync(() => Task.FromResult(host.Connections.Count), count => count == 0);
        await TestProtocol.EventuallyAsync(() => Task.FromResult(host.Service.CountersDestroyed), count => count == 2);
    }

    /// <summary>Our server, serving a <see cref="TestServiceServer"/>.</summary>
    private sealed class CSharpServer : IAsyncDisposable
    {
        private readonly CapnpServer _server;
        private readonly string? _socketPath;

        private CSharpServer(CapnpServer server, TestServiceServer service, string cppAddress, string? socketPath)
        {
            _server = server;
            Service = service;
            CppAddress = cppAddress;
            _socketPath = socketPath;
        }

        public TestServiceServer Service { get; }

        public IReadOnlyList<CapnpConnection> Connections => _server.Connections;

        /// <summary>The address as <c>EzRpcClient</c> spells it.</summary>
        public string CppAddress { get; }

        public static Task<CSharpServer> StartAsync(string transport)
        {
            var service = new TestServiceServer();
            using var bootstrap = Capability.FromServer(service);
            if (transport == "unix")
            {
                var path = Path.Combine(Path.GetTempPath(), $"rpcgen-capnp-{Guid.NewGuid():N}.sock");
                return Task.FromResult(new CSharpServer(CapnpServer.Listen("unix:" + path, bootstrap), service, "unix:" + path, path));
            }

            var server = CapnpServer.Listen("tcp://127.0.0.1:0", bootstrap);
            return Task.FromResult(new CSharpServer(server, service, server.Address["tcp://".Length..], null));
        }

        public async ValueTask DisposeAsync()
        {
            await _server.DisposeAsync();
            if (_socketPath is not null && File.Exists(_socketPath))
            {
                File.Delete(_socketPath);
            }
        }
    }
}
