using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;

namespace RpcGen.Transport.Flow;

/// <summary>How a <see cref="FlowConnection"/> is opened.</summary>
public sealed class FlowConnectionOptions
{
    /// <summary>Flow control and limits.</summary>
    public FlowLimits Limits { get; init; } = FlowLimits.Default;

    /// <summary>The name this side announces to the peer (not authenticated on plain links).</summary>
    public string Name { get; init; } = string.Empty;

    /// <summary>Decides whether the peer may use the connection; null allows every peer.</summary>
    public IPeerAuthorizer? Authorizer { get; init; }

    /// <summary>Where the connection logs.</summary>
    public ILogger Logger { get; init; } = NullLogger.Instance;

    /// <summary>The clock for health checks, RTT and timeouts.</summary>
    public TimeProvider TimeProvider { get; init; } = TimeProvider.System;
}
