using RpcGen.Compression;

namespace RpcGen.Hosting;

/// <summary>
/// Settings of the server <see cref="RpcGenServiceCollectionExtensions.AddRpcGen(Microsoft.Extensions.DependencyInjection.IServiceCollection, Action{RpcGenServerOptions})"/>
/// runs, bindable from configuration (the <c>RpcGen</c> section by convention):
/// <code>
/// "RpcGen": {
///   "Addresses": [ "tcp://0.0.0.0:5050", "unix:/run/orders.sock" ],
///   "Limits": { "MaxFrameBytes": 1048576, "MaxConcurrentCalls": 256 },
///   "Compression": "Lz4",
///   "ShutdownTimeout": "00:00:10"
/// }
/// </code>
/// </summary>
public sealed class RpcGenServerOptions
{
    /// <summary>Where the server listens: <c>tcp://HOST:PORT</c>, <c>unix:PATH</c> or <c>memory:NAME</c>. At least one.</summary>
    public List<string> Addresses { get; } = [];

    /// <summary>Limits applied to every connection. Default: <see cref="RpcLimits"/>'s defaults.</summary>
    public RpcLimits Limits { get; set; } = new();

    /// <summary>The codec for calls the server makes (callbacks); answers use their request's codec.</summary>
    public RpcCompression Compression { get; set; }

    /// <summary>Payloads smaller than this are sent uncompressed. Default 1 KiB.</summary>
    public int CompressionThresholdBytes { get; set; } = 1024;

    /// <summary>Where service methods run; see <see cref="RpcHandlerExecution"/>. Default: the thread pool.</summary>
    public RpcHandlerExecution HandlerExecution { get; set; }

    /// <summary>
    /// How long stopping the host waits for calls in flight before closing connections. Default
    /// 30 s; the host's own shutdown timeout still bounds it.
    /// </summary>
    public TimeSpan ShutdownTimeout { get; set; } = TimeSpan.FromSeconds(30);
}
