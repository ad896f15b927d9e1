namespace RpcGen.Balancing;

/// <summary>
/// Retries of calls to <c>[Idempotent]</c> methods (<see cref="RpcBalancedClientOptions.Retry"/>): an
/// attempt that fails with one of <see cref="RetryableStatusCodes"/> is sent again, preferably to
/// another endpoint, after an exponential backoff, while the <see cref="RpcRetryBudget"/> allows.
/// Run by a Polly retry strategy.
/// </summary>
public sealed class RpcRetryPolicy
{
    /// <summary>All attempts, the first included (2 or more). Default 3.</summary>
    public int MaxAttempts { get; init; } = 3;

    /// <summary>The wait before the first retry; each next one doubles. Default 100 ms.</summary>
    public TimeSpan InitialBackoff { get; init; } = TimeSpan.FromMilliseconds(100);

    /// <summary>The longest wait between attempts. Default 2 s.</summary>
    public TimeSpan MaxBackoff { get; init; } = TimeSpan.FromSeconds(2);

    /// <summary>Whether waits are randomly spread, so that many clients do not retry in step. Default true.</summary>
    public bool UseJitter { get; init; } = true;

    /// <summary>The failures worth another attempt. Default <see cref="RpcStatusCode.Disconnected"/> and <see cref="RpcStatusCode.Overloaded"/>.</summary>
    public IReadOnlySet<RpcStatusCode> RetryableStatusCodes { get; init; } = new HashSet<RpcStatusCode> { RpcStatusCode.Disconnected, RpcStatusCode.Overloaded };

    internal void Validate()
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(MaxAttempts, 2, nameof(MaxAttempts));
        ArgumentOutOfRangeException.ThrowIfLessThan(InitialBackoff, TimeSpan.Zero, nameof(InitialBackoff));
        ArgumentOutOfRangeException.ThrowIfLessThan(MaxBackoff, InitialBackoff, nameof(MaxBackoff));
        ArgumentNullException.ThrowIfNull(RetryableStatusCodes, nameof(RetryableStatusCodes));
    }
}
