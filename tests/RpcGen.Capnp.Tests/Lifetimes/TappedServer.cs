using RpcGen.Capnp.Tests.Infrastructure;

namespace RpcGen.Capnp.Tests.Lifetimes;

/// <summary>
/// A <c>TestService</c> server, the C++ reference one (<c>interop/peers/test-server.c++</c>) or ours on
/// the generated binding (<see cref="TestServiceImplementation"/>), behind a <see cref="WireTap"/> that
/// the client connects through.
/// </summary>
internal sealed class TappedServer : IAsyncDisposable
{
    private static readonly TimeSpan StartTimeout = TimeSpan.FromSeconds(30);

    private readonly IAsyncDisposable _server;

    private TappedServer(IAsyncDisposable server, int port)
    {
        _server = server;
        Tap = WireTap.To(port);
    }

    public WireTap Tap { get; }

    /// <summary>Starts <paramref name="kind"/> (<c>cpp</c> or <c>csharp</c>) on loopback TCP.</summary>
    public static async Task<TappedServer> StartAsync(string kind, ITestService? implementation = null)
    {
        if (kind == "cpp")
        {
            var process = PeerProcess.Start(await CppPeers.PathOfAsync("test-server"), "127.0.0.1:0");
            var line = await process.WaitForLineAsync("LISTENING", StartTimeout);
            return new TappedServer(process, int.Parse(line["LISTENING ".Length..], System.Globalization.CultureInfo.InvariantCulture));
        }

        var server = CapnpServer.Listen<ITestService>("tcp://127.0.0.1:0", implementation ?? new TestServiceImplementation());
        return new TappedServer(server, new Uri(server.Address).Port);
    }

    /// <summary>Our client, on the generated binding, connected through the tap.</summary>
    public async Task<(CapnpConnection Connection, ITestService Service)> ConnectAsync(CapnpConnectionOptions? options = null)
    {
        var connection = await CapnpConnection.ConnectAsync(Tap.Address, options);
        return (connection, connection.Bootstrap<ITestService>());
    }

    /// <summary>
    /// Runs one scenario through the tap with <paramref name="client"/>: <c>cpp</c> runs
    /// <paramref name="cppScenario"/> of the C++ test client, which must pass; <c>csharp</c> runs
    /// <paramref name="ours"/> on our client, then closes it.
    /// </summary>
    public async Task RunClientAsync(string client, string cppScenario, Func<ITestService, Task> ours)
    {
        if (client == "cpp")
        {
            await using var process = PeerProcess.Start(await CppPeers.PathOfAsync("test-client"), Tap.CppAddress, cppScenario);
            var line = await process.WaitForLineAsync("", StartTimeout);
            await process.WaitForExitAsync(StartTimeout);
            Assert.True(line == "PASS " + cppScenario, line + "\n" + await process.StderrSoFarAsync());
            return;
        }

        var (connection, service) = await ConnectAsync();
        await using (connection)
        using (service as IDisposable)
        {
            await ours(service);
        }
    }

    public async ValueTask DisposeAsync()
    {
        await Tap.DisposeAsync();
        await _server.DisposeAsync();
    }
}
