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

    // Both sides' handshake bound (see ConnectAsync).
    private static readonly TimeSpan HandshakeTimeout = TimeSpan.FromSeconds(60);

    private readonly ILoggerFactory _loggerFactory;

    private SoakServerHost(RpcServer server, SoakService service, LogPulse pulse, ILoggerFactory loggerFactory, SoakTls? tls)
    {
        _loggerFactory = loggerFactory;
        Tls = tls;
        Server = server;
        Service = service;
        Pulse = pulse;
    }

    public RpcServer Server { get; }

    public SoakService Service { get; }

    /// <summary>Signals each line the server logs (each connection close logs one).</summary>
    public LogPulse Pulse { get; }

    public string Address => Server.Addresses[0];

    /// <summary>The PKI of a <c>tls://</c> server (its clients need it too); null on other transports.</summary>
    public SoakTls? Tls { get; }

    /// <summary>Connects a client to this server, with the client side of <see cref="Tls"/> when there is one.</summary>
    public Task<RpcClient> ConnectAsync(RpcClientOptions? options = null)
    {
        options ??= new RpcClientOptions();
        options.Tls ??= Tls?.Client;

        // 200 clients dial at once in the second phase; over TLS, 200 handshakes on a busy 2-core
        // machine take longer than the default 10 s (it is a harness limit, not what is measured).
        options.ConnectTimeout = HandshakeTimeout;
        return RpcClient.ConnectAsync(Address, options);
    }

    /// <summary>A fresh listening address of <paramref name="transport"/> (tcp and flow pick a free port).</summary>
    public static string NewAddress(string transport) => transport switch
    {
        "tcp" => "tcp://127.0.0.1:0",
        "tls" => "tls://127.0.0.1:0",
        "unix" => $"unix:{NewSocketPath()}",
        "shm" => $"shm:{NewSocketPath()}",
        "flow" => "flow+tcp://127.0.0.1:0",
        _ => throw new ArgumentOutOfRangeException(nameof(transport), transport, "The soak runs over tcp, tls, unix, shm or flow."),
    };

    /// <summary>
    /// Starts a server on <paramref name="address"/>. MaxConcurrentCalls (default 1,024) is raised to
    /// let <paramref name="concurrentCalls"/> wait together on one connection, and the connection
    /// limits (default 128 per address) to let <paramref name="connections"/> in from 127.0.0.1.
    /// A <c>tls://</c> address needs <paramref name="tls"/>.
    /// </summary>
    public static async Task<SoakServerHost> StartAsync(string address, int concurrentCalls, int connections, SoakTls? tls = null)
    {
        var pulse = new LogPulse();
        var limits = new RpcLimits
        {
            MaxConcurrentCalls = Math.Max(RpcLimits.Default.MaxConcurrentCalls, concurrentCalls),
            MaxConnectionsPerAddress = Math.Max(RpcLimits.Default.MaxConnectionsPerAddress, connections),
            MaxConnections = Math.Max(RpcLimits.Default.MaxConnections, connections),
            HandshakeTimeout = HandshakeTimeout,
        };
        var loggerFactory = LoggerFactory.Create(builder => builder.SetMinimumLevel(LogLevel.Debug).AddProvider(pulse));
        var service = new SoakService();
        var server = new RpcServer(new RpcServerOptions { Limits = limits, LoggerFactory = loggerFactory, Tls = tls?.Server });
        server.AddService<ISoakService>(service);
        await server.StartAsync(address);
        return new SoakServerHost(server, service, pulse, loggerFactory, tls);
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
