namespace RpcGen.Balancing;

/// <summary>
/// Hedging of calls to <c>[Idempotent]</c> methods (<see cref="RpcBalancedClientOptions.Hedging"/>):
/// when the first attempt has not answered within <see cref="Delay"/> (or failed with one of
/// <see cref="NonFatalStatusCodes"/>), the call is also sent to another endpoint; the first answer
/// wins and the other attempts are cancelled. Hedges count against the <see cref="RpcRetryBudget"/>.
/// Run by a Polly hedging strategy.
/// </summary>
public sealed class RpcHedgingPolicy
{
    /// <summary>All attempts, the first included (2 or more). Default 2.</summary>
    public int MaxAttempts { get; init; } = 2;

    /// <summary>How long an attempt runs before the next is sent beside it. Default 100 ms.</summary>
    public TimeSpan Delay { get; init; } = TimeSpan.FromMilliseconds(100);

    /// <summary>Failures after which the next attempt is sent at once rather than ending the call. Default <see cref="RpcStatusCode.Disconnected"/> and <see cref="RpcStatusCode.Overloaded"/>.</summary>
    public IReadOnlySet<RpcStatusCode> NonFatalStatusCodes { get; init; } = new HashSet<RpcStatusCode> { RpcStatusCode.Disconnected, RpcStatusCode.Overloaded };

    internal void Validate()
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(MaxAttempts, 2, nameof(MaxAttempts));
        ArgumentOutOfRangeException.ThrowIfLessThan(Delay, TimeSpan.Zero, nameof(Delay));
        ArgumentNullException.ThrowIfNull(NonFatalStatusCodes, nameof(NonFatalStatusCodes));
    }
}
