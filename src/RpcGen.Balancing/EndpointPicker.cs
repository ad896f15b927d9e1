namespace RpcGen.Balancing;

/// <summary>
/// Chooses the endpoint of one call among the ready ones, per <see cref="RpcBalancingPolicy"/>.
/// Endpoints a call already tried (its earlier attempts) are avoided while another is ready.
/// Runs on the caller's thread, lock-free: the endpoint array is replaced, never changed.
/// </summary>
internal abstract class EndpointPicker
{
    public static EndpointPicker Create(RpcBalancingPolicy policy) => policy switch
    {
        RpcBalancingPolicy.PickFirst => new PickFirst(),
        RpcBalancingPolicy.RoundRobin => new RoundRobin(),
        RpcBalancingPolicy.LeastOutstanding => new LeastOutstanding(),
        _ => throw new ArgumentOutOfRangeException(nameof(policy), policy, "Unknown balancing policy."),
    };

    /// <summary>A ready endpoint not in <paramref name="tried"/>, else any ready one, else null.</summary>
    public Subchannel? Pick(Subchannel[] endpoints, CallAttempts? tried) =>
        (tried is { IsEmpty: false } ? PickAmong(endpoints, tried) : null) ?? PickAmong(endpoints, null);

    protected abstract Subchannel? PickAmong(Subchannel[] endpoints, CallAttempts? avoid);

    protected static bool IsCandidate(Subchannel endpoint, CallAttempts? avoid) =>
        endpoint.IsReady && (avoid is null || !avoid.Tried(endpoint));

    /// <summary>Sticks to one endpoint while it is ready; then takes the first ready one in the resolver's order.</summary>
    private sealed class PickFirst : EndpointPicker
    {
        private Subchannel? _current;

        protected override Subchannel? PickAmong(Subchannel[] endpoints, CallAttempts? avoid)
        {
            var current = Volatile.Read(ref _current);
            if (current is not null && IsCandidate(current, avoid) && Array.IndexOf(endpoints, current) >= 0)
            {
                return current;
            }

            foreach (var endpoint in endpoints)
            {
                if (IsCandidate(endpoint, avoid))
                {
                    if (avoid is null)
                    {
                        Volatile.Write(ref _current, endpoint);
                    }

                    return endpoint;
                }
            }

            return null;
        }
    }

    /// <summary>
    /// The ready endpoints in turn. The turn counts over the ready ones only: skipping an endpoint that
    /// is down would hand its share to the one after it, doubling that replica's load.
    /// </summary>
    private sealed class RoundRobin : EndpointPicker
    {
        private uint _next;

        protected override Subchannel? PickAmong(Subchannel[] endpoints, CallAttempts? avoid)
        {
            var ready = 0;
            foreach (var endpoint in endpoints)
            {
                if (IsCandidate(endpoint, avoid))
                {
                    ready++;
                }
            }

            if (ready == 0)
            {
                return null;
            }

            var turn = Interlocked.Increment(ref _next) % (uint)ready;
            Subchannel? any = null;
            foreach (var endpoint in endpoints)
            {
                if (IsCandidate(endpoint, avoid))
                {
                    if (turn-- == 0)
                    {
                        return endpoint;
                    }

                    any ??= endpoint;
                }
            }

            // One went down between the two passes: any ready one will do.
            return any;
        }
    }

    /// <summary>Of two ready endpoints chosen at random, the one with fewer calls in flight.</summary>
    private sealed class LeastOutstanding : EndpointPicker
    {
        protected override Subchannel? PickAmong(Subchannel[] endpoints, CallAttempts? avoid)
        {
            var candidates = 0;
            Subchannel? first = null;
            Subchannel? second = null;

            // Reservoir sampling of two distinct candidates in one pass, without allocating.
            foreach (var endpoint in endpoints)
            {
                if (!IsCandidate(endpoint, avoid))
                {
                    continue;
                }

                candidates++;
                if (candidates == 1)
                {
                    first = endpoint;
                }
                else if (candidates == 2)
                {
                    second = endpoint;
                }
                else
                {
                    var slot = Random.Shared.Next(candidates);
                    if (slot == 0)
                    {
                        first = endpoint;
                    }
                    else if (slot == 1)
                    {
                        second = endpoint;
                    }
                }
            }

            if (second is null)
            {
                return first;
            }

            var a = first!.Inflight;
            var b = second.Inflight;
            return a < b ? first : b < a ? second : (Random.Shared.Next(2) == 0 ? first : second);
        }
    }
}
