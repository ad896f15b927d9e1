using RpcGen.Compression;
using RpcGen.Transport.Message;

namespace RpcGen.Hosting;

/// <summary>
/// Settings of a typed client registered with <c>AddRpcClient</c>, bindable from configuration:
/// <code>
/// "Clients": { "Orders": { "Address": "tcp://orders:5050", "DefaultTimeout": "00:00:05" } }
/// </code>
/// </summary>
public sealed class RpcGenClientOptions
{
    /// <summary>The server's address: <c>tcp://HOST:PORT</c>, <c>unix:PATH</c> or <c>memory:NAME</c>. Required.</summary>
    public string? Address { get; set; }

    /// <summary>The deadline of calls made outside any <see cref="RpcDeadline"/> scope; null means none.</summary>
    public TimeSpan? DefaultTimeout { get; set; }

    /// <summary>How long connecting (and each reconnection attempt) may take. Default 10 s.</summary>
    public TimeSpan ConnectTimeout { get; set; } = TimeSpan.FromSeconds(10);

    /// <summary>Quiet time after which the client pings the server. Default 30 s.</summary>
    public TimeSpan KeepAliveInterval { get; set; } = TimeSpan.FromSeconds(30);

    /// <summary>How long a ping may go unanswered before the connection is declared dead. Default 20 s.</summary>
    public TimeSpan KeepAliveTimeout { get; set; } = TimeSpan.FromSeconds(20);

    /// <summary>
    /// Whether the shared connection comes back by itself after it drops (with
    /// <see cref="RpcReconnectPolicy.Default"/>'s backoff). Default true: injected clients live as long
    /// as the application, across server restarts.
    /// </summary>
    public bool Reconnect { get; set; } = true;

    /// <summary>Whether calls made while disconnected wait for the connection (up to their deadline) instead of failing at once. Default false.</summary>
    public bool WaitForReady { get; set; }

    /// <summary>The codec for calls; default none.</summary>
    public RpcCompression Compression { get; set; }

    /// <summary>Limits applied to the connection.</summary>
    public RpcLimits Limits { get; set; } = new();

    internal RpcClientOptions ToClientOptions(Microsoft.Extensions.Logging.ILoggerFactory? loggerFactory, TimeProvider? timeProvider, RpcGen.Security.RpcTlsOptions? tls) => new()
    {
        Tls = tls,
        Limits = Limits,
        DefaultTimeout = DefaultTimeout,
        LoggerFactory = loggerFactory,
        Compression = Compression,
        ConnectTimeout = ConnectTimeout,
        KeepAliveInterval = KeepAliveInterval,
        KeepAliveTimeout = KeepAliveTimeout,
        TimeProvider = timeProvider ?? TimeProvider.System,
        Reconnect = Reconnect ? RpcReconnectPolicy.Default : null,
        WaitForReady = WaitForReady,
    };
}
