using Microsoft.Extensions.Logging;

namespace RpcGen.Transport.Message;

/// <summary>Settings of an <see cref="RpcServer"/>.</summary>
public sealed class RpcServerOptions
{
    /// <summary>Limits applied to every connection. Default: <see cref="RpcLimits.Default"/>.</summary>
    public RpcLimits Limits { get; init; } = RpcLimits.Default;

    /// <summary>Where the server logs. Default: nowhere.</summary>
    public ILoggerFactory? LoggerFactory { get; init; }
}
