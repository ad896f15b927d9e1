namespace RpcGen.Balancing;

/// <summary>
/// Bounds retries and hedges so that they cannot multiply the load on services that are already
/// failing (gRPC's retry throttling): a token count starts at <see cref="MaxTokens"/>, each failed
/// attempt takes one, each success gives back <see cref="TokenRatio"/>; retries and hedges are sent
/// only while more than half the tokens are left. One budget serves all calls of a client.
/// </summary>
public sealed class RpcRetryBudget
{
    // Tokens × 1000, so that fractional ratios need no floating point under contention.
    private const int Scale = 1000;
    private readonly int _max;
    private readonly int _ratio;
    private int _tokens;

    /// <summary>Creates a full budget of <paramref name="maxTokens"/> tokens that gains <paramref name="tokenRatio"/> per success.</summary>
    public RpcRetryBudget(int maxTokens = 10, double tokenRatio = 0.1)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(maxTokens, 1);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(tokenRatio);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(tokenRatio, maxTokens);
        MaxTokens = maxTokens;
        TokenRatio = tokenRatio;
        _max = maxTokens * Scale;
        _ratio = (int)Math.Round(tokenRatio * Scale);
        _tokens = _max;
    }

    /// <summary>The most tokens the budget holds.</summary>
    public int MaxTokens { get; }

    /// <summary>The tokens one success gives back.</summary>
    public double TokenRatio { get; }

    /// <summary>The tokens left now.</summary>
    public double Tokens => Volatile.Read(ref _tokens) / (double)Scale;

    /// <summary>Whether a retry or hedge may be sent now: more than half the tokens are left.</summary>
    public bool AllowsRetry => Volatile.Read(ref _tokens) > _max / 2;

    /// <summary>An attempt succeeded.</summary>
    public void RecordSuccess() => Update(_ratio);

    /// <summary>An attempt failed in a way retries are meant for.</summary>
    public void RecordFailure() => Update(-Scale);

    private void Update(int delta)
    {
        int current, next;
        do
        {
            current = Volatile.Read(ref _tokens);
            next = Math.Clamp(current + delta, 0, _max);
        }
        while (Interlocked.CompareExchange(ref _tokens, next, current) != current);
    }
}
