using Microsoft.Extensions.Logging;
using RpcGen.Transport.Message;

namespace RpcGen.Balancing;

/// <summary>Settings of an <see cref="RpcBalancedClient"/>; set them before creating it.</summary>
public sealed class RpcBalancedClientOptions
{
    /// <summary>
    /// The settings of each endpoint's connection (limits, TLS, keepalive, interceptors, reconnect
    /// backoff). Its <see cref="RpcClientOptions.WaitForReady"/> and
    /// <see cref="RpcClientOptions.DefaultTimeout"/> apply to the balanced client's calls as a whole
    /// (a deadline spans every attempt); a null <see cref="RpcClientOptions.Reconnect"/> means
    /// <see cref="RpcReconnectPolicy.Default"/>, as an endpoint's connection always reconnects.
    /// </summary>
    public RpcClientOptions Client { get; set; } = new();

    /// <summary>How calls are spread over the endpoints. Default <see cref="RpcBalancingPolicy.RoundRobin"/>.</summary>
    public RpcBalancingPolicy Policy { get; set; } = RpcBalancingPolicy.RoundRobin;

    /// <summary>
    /// How often the resolver is asked again; it is also asked soon after an endpoint fails. Default
    /// 30 s; <see cref="Timeout.InfiniteTimeSpan"/> asks only after failures.
    /// </summary>
    public TimeSpan ResolveInterval { get; set; } = TimeSpan.FromSeconds(30);

    /// <summary>Retries of calls to <c>[Idempotent]</c> methods; null (the default) does not retry. Exclusive with <see cref="Hedging"/>.</summary>
    public RpcRetryPolicy? Retry { get; set; }

    /// <summary>Hedging of calls to <c>[Idempotent]</c> methods; null (the default) does not hedge. Exclusive with <see cref="Retry"/>.</summary>
    public RpcHedgingPolicy? Hedging { get; set; }

    /// <summary>What bounds retries and hedges across all calls of the client. Default: 10 tokens, 0.1 per success.</summary>
    public RpcRetryBudget RetryBudget { get; set; } = new();

    /// <summary>
    /// The clock of the resolve interval, retry backoff and hedging delay. Default
    /// <see cref="TimeProvider.System"/>; tests pass a fake one.
    /// </summary>
    public TimeProvider TimeProvider { get; set; } = TimeProvider.System;

    /// <summary>Where the balancer logs (endpoints resolved, failed, redirected calls). Default: nowhere.</summary>
    public ILoggerFactory? LoggerFactory { get; set; }

    internal void Validate()
    {
        ArgumentNullException.ThrowIfNull(Client, nameof(Client));
        ArgumentNullException.ThrowIfNull(RetryBudget, nameof(RetryBudget));
        ArgumentNullException.ThrowIfNull(TimeProvider, nameof(TimeProvider));
        if (ResolveInterval != Timeout.InfiniteTimeSpan && ResolveInterval <= TimeSpan.Zero)
        {
            throw new ArgumentOutOfRangeException(nameof(ResolveInterval), ResolveInterval, "RpcBalancedClientOptions.ResolveInterval must be positive or Timeout.InfiniteTimeSpan.");
        }

        if (Retry is not null && Hedging is not null)
        {
            throw new ArgumentException("Set RpcBalancedClientOptions.Retry or Hedging, not both: a hedged call already sends several attempts.");
        }

        Retry?.Validate();
        Hedging?.Validate();
    }
}
