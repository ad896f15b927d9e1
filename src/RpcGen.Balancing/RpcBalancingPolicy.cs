namespace RpcGen.Balancing;

/// <summary>How an <see cref="RpcBalancedClient"/> chooses the endpoint of each call (the names gRPC uses).</summary>
public enum RpcBalancingPolicy
{
    /// <summary>
    /// <c>pick-first</c>: every call goes to one endpoint, the first in the resolver's order that is
    /// ready, until it fails; then to the next ready one, and it stays there.
    /// </summary>
    PickFirst,

    /// <summary><c>round-robin</c>: calls go to the ready endpoints in turn.</summary>
    RoundRobin,

    /// <summary>
    /// <c>least-outstanding</c>: each call looks at two ready endpoints chosen at random and goes to the
    /// one with fewer calls in flight from this client (the power of two choices), so a slow replica,
    /// whose calls pile up, gets fewer new ones.
    /// </summary>
    LeastOutstanding,
}

/// <summary>Reads the policy names used in configuration.</summary>
public static class RpcBalancingPolicyNames
{
    /// <summary>Parses <c>pick-first</c>, <c>round-robin</c> or <c>least-outstanding</c> (or the enum names), ignoring case.</summary>
    /// <exception cref="ArgumentException">The name is none of those.</exception>
    public static RpcBalancingPolicy Parse(string name)
    {
        ArgumentNullException.ThrowIfNull(name);
        return name.Replace("-", string.Empty, StringComparison.Ordinal).Replace("_", string.Empty, StringComparison.Ordinal).ToLowerInvariant() switch
        {
            "pickfirst" => RpcBalancingPolicy.PickFirst,
            "roundrobin" => RpcBalancingPolicy.RoundRobin,
            "leastoutstanding" => RpcBalancingPolicy.LeastOutstanding,
            _ => throw new ArgumentException($"'{name}' is not a balancing policy: use pick-first, round-robin or least-outstanding.", nameof(name)),
        };
    }
}
