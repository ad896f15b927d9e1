using Microsoft.Extensions.Logging;

namespace RpcGen.Soak;

/// <summary>An in-process server of <see cref="SoakService"/> on a real transport, with limits raised for the load phases.</summary>
public sealed class SoakServerHost : IAsyncDisposable
{
    static SoakServerHost()
    {
        RpcGen.Transport.SharedMemory.SharedMemoryLinks.Register();
        RpcGen.Transport.Flow.FlowLinks.Register();
    }

    private readonly ILoggerFactory _loggerFactory;

    private SoakServerHost(RpcServer server, SoakService service, LogPulse pulse, ILoggerFactory loggerFactory)
    {
        _loggerFactory = loggerFactory;
        Server = server;
        Service = service;
        Pulse = pulse;
    }

    public RpcServer Server { get; }

    public SoakService Service { get; }

    /// <summary>Signals each line the server logs (each connection close logs one).</summary>
    public LogPulse Pulse { get; }

    public string Address => Server.Addresses[0];

    /// <summary>A fresh listening address of <paramref name="transport"/> (tcp and flow pick a free port).</summary>
    public static string NewAddress(string transport) => transport switch
    {
        "tcp" => "tcp://127.0.0.1:0",
        "unix" => $"unix:{NewSocketPath()}",
        "shm" => $"shm:{NewSocketPath()}",
        "flow" => "flow+tcp://127.0.0.1:0",
        _ => throw new ArgumentOutOfRangeException(nameof(transport), transport, "The soak runs over tcp, unix, shm or flow."),
    };

    /// <summary>
    /// Starts a server on <paramref name="address"/>. MaxConcurrentCalls (default 1,024) is raised to
    /// let <paramref name="concurrentCalls"/> wait together on one connection, and the connection
    /// limits (default 128 per address) to let <paramref name="connections"/> in from 127.0.0.1.
    /// </summary>
    public static async Task<SoakServerHost> StartAsync(string address, int concurrentCalls, int connections)
    {
        var pulse = new LogPulse();
        var limits = new RpcLimits
        {
            MaxConcurrentCalls = Math.Max(RpcLimits.Default.MaxConcurrentCalls, concurrentCalls),
            MaxConnectionsPerAddress = Math.Max(RpcLimits.Default.MaxConnectionsPerAddress, connections),
            MaxConnections = Math.Max(RpcLimits.Default.MaxConnections, connections),
        };
        var loggerFactory = LoggerFactory.Create(builder => builder.SetMinimumLevel(LogLevel.Debug).AddProvider(pulse));
        var service = new SoakService();
        var server = new RpcServer(new RpcServerOptions { Limits = limits, LoggerFactory = loggerFactory });
        server.AddService<ISoakService>(service);
        await server.StartAsync(address);
        return new SoakServerHost(server, service, pulse, loggerFactory);
    }

    /// <summary>Stops the server; <paramref name="grace"/> zero drops its connections with calls in flight.</summary>
    public async Task StopAsync(TimeSpan grace)
    {
        await Server.StopAsync(grace);
        _loggerFactory.Dispose();
    }

    public ValueTask DisposeAsync() => new(StopAsync(TimeSpan.FromSeconds(5)));

    private static string NewSocketPath() => Path.Combine(Path.GetTempPath(), $"rpcgen-soak-{Guid.NewGuid():N}.sock");
}
