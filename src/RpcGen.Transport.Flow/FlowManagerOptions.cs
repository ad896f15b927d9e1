using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using RpcGen.Security;

namespace RpcGen.Transport.Flow;

/// <summary>How a <see cref="FlowManager"/> dials, listens and caches.</summary>
public sealed class FlowManagerOptions
{
    /// <summary>The name this side announces on every connection (not authenticated on plain links).</summary>
    public string Name { get; init; } = string.Empty;

    /// <summary>Flow control and limits of every connection.</summary>
    public FlowLimits Limits { get; init; } = FlowLimits.Default;

    /// <summary>
    /// The link limits: pending bytes, the TLS handshake timeout, and how many connections the
    /// manager's listeners hold at once (<see cref="RpcLimits.MaxConnections"/> in all,
    /// <see cref="RpcLimits.MaxConnectionsPerAddress"/> per remote IP, counted from accept, setup
    /// exchange included, until the connection ends; one beyond is closed at once with a log line).
    /// </summary>
    public RpcLimits LinkLimits { get; init; } = RpcLimits.Default;

    /// <summary>TLS options for <c>tls://</c> and <c>tls+unix:</c> (a server certificate to listen, a CA to dial).</summary>
    public RpcTlsOptions? Tls { get; init; }

    /// <summary>Decides whether a connecting peer may use a connection this manager accepted; null allows all.</summary>
    public IPeerAuthorizer? Authorizer { get; init; }

    /// <summary>
    /// How long a connection with no flow may stay unused before it is closed (lame duck): dialed
    /// ones in the cache (unless pinned) and accepted ones alike, so a peer that opens no flow cannot
    /// keep one of the listeners' connection slots. Health checks do not count as use. Default 5 minutes.
    /// </summary>
    public TimeSpan IdleTimeout { get; init; } = TimeSpan.FromMinutes(5);

    /// <summary>The most connections kept in the cache; past it, the least recently used idle one is closed. Default 64.</summary>
    public int MaxCachedConnections { get; init; } = 64;

    /// <summary>Where the manager and its connections log.</summary>
    public ILogger Logger { get; init; } = NullLogger.Instance;

    /// <summary>The clock for idle eviction, health checks and timeouts.</summary>
    public TimeProvider TimeProvider { get; init; } = TimeProvider.System;
}

/// <summary>What a manager listens on, as <see cref="FlowManager.Status"/> reports it.</summary>
/// <param name="Endpoints">The addresses listened on (a <c>:0</c> port resolved to the chosen one).</param>
/// <param name="ListenErrors">Addresses whose listening failed, with why.</param>
/// <param name="Changed">Completes the next time the status changes.</param>
public sealed record FlowManagerStatus(IReadOnlyList<string> Endpoints, IReadOnlyDictionary<string, string> ListenErrors, Task Changed);
