using Microsoft.Extensions.Logging;

namespace RpcGen.Transport.Message.Tests;

/// <summary>A server with the scenario services on one transport, and a client connected to it.</summary>
public sealed class TransportFixture : IAsyncDisposable
{
    public static readonly TimeSpan Timeout = TimeSpan.FromSeconds(15);

    private readonly List<RpcClient> _clients = new();

    static TransportFixture() => RpcGen.Transport.Flow.FlowLinks.Register();

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
    public static TheoryData<string> Transports => new() { "tcp", "unix", "memory", "flow" };

    public static string NewAddress(string transport) => transport switch
    {
        "tcp" => "tcp://127.0.0.1:0",
        "unix" => $"unix:{Path.Combine(Path.GetTempPath(), $"rpcgen-{Guid.NewGuid():N}.sock")}",
        "memory" => $"memory:{Guid.NewGuid():N}",
        "flow" => "flow+tcp://127.0.0.1:0", // FlowLinks is registered by the static constructor
        _ => throw new ArgumentOutOfRangeException(nameof(transport), transport, null),
    };

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
        var server = new RpcServer(new RpcServerOptions { Limits = limits ?? RpcLimits.Default, LoggerFactory = loggerFactory, TimeProvider = timeProvider ?? TimeProvider.System });
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
        var client = await RpcClient.ConnectAsync(Address, options).WaitAsync(Timeout);
        _clients.Add(client);
        return client;
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
