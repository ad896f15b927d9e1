using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using RpcGen.Security;

namespace RpcGen.Links;

/// <summary>What the protocol that asked for a link passes on to an <see cref="IRpcLinkProvider"/>.</summary>
public sealed class RpcLinkContext
{
    /// <summary>The limits of the server or client asking (pending bytes, handshake timeout).</summary>
    public RpcLimits Limits { get; init; } = RpcLimits.Default;

    /// <summary>The TLS options of the server or client, for providers that carry a TLS link; null when none were given.</summary>
    public RpcTlsOptions? Tls { get; init; }

    /// <summary>Where the provider logs.</summary>
    public ILogger Logger { get; init; } = NullLogger.Instance;

    /// <summary>The clock for the provider's timeouts.</summary>
    public TimeProvider TimeProvider { get; init; } = TimeProvider.System;
}
