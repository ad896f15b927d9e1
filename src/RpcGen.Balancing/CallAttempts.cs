namespace RpcGen.Balancing;

/// <summary>
/// The attempts of one call (retries and hedges): how many have started, and which endpoints they
/// went to, so the next attempt goes elsewhere when it can. Hedged attempts run at once, so it locks.
/// </summary>
internal sealed class CallAttempts
{
    private readonly List<Subchannel> _tried = new(2);
    private int _started;

    public bool IsEmpty
    {
        get
        {
            lock (_tried)
            {
                return _tried.Count == 0;
            }
        }
    }

    /// <summary>Starts an attempt; returns its number (1 for the first).</summary>
    public int Start() => Interlocked.Increment(ref _started);

    public void Add(Subchannel endpoint)
    {
        lock (_tried)
        {
            _tried.Add(endpoint);
        }
    }

    public bool Tried(Subchannel endpoint)
    {
        lock (_tried)
        {
            return _tried.Contains(endpoint);
        }
    }
}
