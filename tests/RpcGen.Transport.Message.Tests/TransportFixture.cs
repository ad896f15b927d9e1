using Microsoft.Extensions.Logging;

namespace RpcGen.Transport.Message.Tests;

/// <summary>A server with the scenario services on one transport, and a client connected to it.</summary>
public sealed class TransportFixture : IAsyncDisposable
{
    public static readonly TimeSpan Timeout = TimeSpan.FromSeconds(15);

    private readonly List<RpcClient> _clients = new();

    static TransportFixture()
    {
        RpcGen.Transport.SharedMemory.SharedMemoryLinks.Register();
        RpcGen.Transport.Flow.FlowLinks.Register();
    }

    private TransportFixture(RpcServer server, ScenarioService service, StreamingService streaming, CapturingLoggerProvider logs)
    {
        Server = server;
        Service = service;
        Streaming = streaming;
        Logs = logs;
    }

    public StreamingService Streaming { get; }

    public RpcServer Server { get; }

    public ScenarioService Service { get; }

    public CapturingLoggerProvider Logs { get; }

    public string Address => Server.Addresses[0];

    public RpcClient Client => _clients[0];

    /// <summary>The transports every scenario runs over.</summary>
    public static TheoryData<string> Transports => new() { "tcp", "unix", "memory", "tls", "tls+unix", "shm", "flow", "flow+shm" };

    public static string NewAddress(string transport) => transport switch
    {
        "tcp" => "tcp://127.0.0.1:0",
        "unix" => $"unix:{NewSocketPath()}",
        "memory" => $"memory:{Guid.NewGuid():N}",
        "tls" => "tls://127.0.0.1:0",
        "tls+unix" => $"tls+unix:{NewSocketPath()}",
        "shm" => $"shm:{NewSocketPath()}",
        "flow" => "flow+tcp://127.0.0.1:0",
        "flow+shm" => $"flow+shm:{NewSocketPath()}",
        _ => throw new ArgumentOutOfRangeException(nameof(transport), transport, null),
    };

    private static string NewSocketPath() => Path.Combine(Path.GetTempPath(), $"rpcgen-{Guid.NewGuid():N}.sock");

    /// <summary>
    /// <paramref name="options"/> (or new ones) ready to serve <paramref name="transport"/>: a TLS
    /// transport gets the shared test CA's server identity, with mutual TLS, unless the test gave its own.
    /// </summary>
    public static RpcServerOptions ServerOptions(string transport, RpcServerOptions? options = null)
    {
        options ??= new RpcServerOptions();
        if (transport.StartsWith("tls", StringComparison.Ordinal))
        {
            options.Tls ??= TestPki.Shared.ServerTls();
        }

        return options;
    }

    /// <summary>
    /// <paramref name="options"/> ready to connect to <paramref name="address"/>: a TLS address gets the
    /// shared test CA's client identity unless the test gave its own. Plain addresses keep them as given.
    /// </summary>
    public static RpcClientOptions? ClientOptions(string address, RpcClientOptions? options = null)
    {
        if (address.StartsWith("tls", StringComparison.Ordinal))
        {
            options ??= new RpcClientOptions();
            options.Tls ??= TestPki.Shared.ClientTls();
        }

        return options;
    }

    /// <summary>Connects to <paramref name="address"/> as <see cref="ClientOptions"/> prepares, within <see cref="Timeout"/>.</summary>
    public static Task<RpcClient> ConnectToAsync(string address, RpcClientOptions? options = null) =>
        RpcClient.ConnectAsync(address, ClientOptions(address, options)).WaitAsync(Timeout);

    public static async Task<TransportFixture> StartAsync(
        string transport,
        RpcLimits? limits = null,
        RpcClientOptions? clientOptions = null,
        bool serveOther = true,
        TimeProvider? timeProvider = null)
    {
        var logs = new CapturingLoggerProvider();
        var loggerFactory = LoggerFactory.Create(b => b.SetMinimumLevel(LogLevel.Debug).AddProvider(logs));
        var service = new ScenarioService();
        var streaming = new StreamingService();
        var server = new RpcServer(ServerOptions(transport, new RpcServerOptions { Limits = limits ?? RpcLimits.Default, LoggerFactory = loggerFactory, TimeProvider = timeProvider ?? TimeProvider.System }));
        server.AddService<IScenarioService>(service);
        server.AddService<IStreamingService>(streaming);
        if (serveOther)
        {
            server.AddService<IOtherService>(service);
        }

        await server.StartAsync(NewAddress(transport));
        var fixture = new TransportFixture(server, service, streaming, logs);
        await fixture.ConnectAsync(clientOptions);
        return fixture;
    }

    public async Task<RpcClient> ConnectAsync(RpcClientOptions? options = null)
    {
        var client = await ConnectToAsync(Address, options);
        _clients.Add(client);
        return client;
    }

    /// <summary>
    /// Waits until <paramref name="condition"/> holds about the server, looking again at each
    /// connection close it logs; fails the test naming <paramref name="what"/> after <see cref="Timeout"/>.
    /// </summary>
    public async Task WaitUntilAsync(Func<bool> condition, string what)
    {
        using var cts = new CancellationTokenSource(Timeout);
        while (!condition())
        {
            // Each close logs a line; a line is the signal to look again.
            try
            {
                await Logs.WaitForCountAsync(" closed", Logs.Entries.Count(e => e.Message.Contains(" closed", StringComparison.Ordinal)) + 1, TimeSpan.FromMilliseconds(200)).WaitAsync(cts.Token);
            }
            catch (TimeoutException)
            {
                // Look again: the close may have been logged before the count was taken.
            }
            catch (OperationCanceledException)
            {
                Assert.Fail($"Waiting for {what}: the server still holds {Server.ConnectionCount} connections and {Server.PendingOutboundBytes:N0} outbound bytes.");
            }
        }
    }

    public async ValueTask DisposeAsync()
    {
        foreach (var client in _clients)
        {
            await client.DisposeAsync();
        }

        await Server.StopAsync(TimeSpan.FromSeconds(5)).WaitAsync(Timeout);
    }
}
