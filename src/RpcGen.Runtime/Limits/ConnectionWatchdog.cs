namespace RpcGen.Limits;

/// <summary>
/// One timer per server that visits every connection once per period and lets it enforce its
/// time limits (<see cref="ConnectionTimeouts"/>). One timer for all connections, rather than one
/// per connection or per frame, keeps the cost of the limits off the hot path: the reader only
/// stores timestamps.
/// </summary>
/// <remarks>
/// The timer comes from the server's <see cref="TimeProvider"/>, so tests drive it with a fake
/// clock instead of waiting. A connection's check runs outside the watchdog's lock, and an
/// exception from one check does not stop the others.
/// </remarks>
internal sealed class ConnectionWatchdog : IDisposable
{
    private readonly TimeProvider _time;
    private readonly HashSet<IWatchedConnection> _connections = new(ReferenceEqualityComparer.Instance);
    private readonly ITimer _timer;

    public ConnectionWatchdog(TimeProvider time, RpcLimits limits)
    {
        _time = time;
        var period = Period(limits);
        _timer = time.CreateTimer(static state => ((ConnectionWatchdog)state!).Sweep(), this, period, period);
    }

    public void Add(IWatchedConnection connection)
    {
        lock (_connections)
        {
            _connections.Add(connection);
        }
    }

    public void Remove(IWatchedConnection connection)
    {
        lock (_connections)
        {
            _connections.Remove(connection);
        }
    }

    public void Dispose() => _timer.Dispose();

    /// <summary>A quarter of the shortest limit, between 100 ms and 1 s: a limit is enforced at most a quarter late.</summary>
    internal static TimeSpan Period(RpcLimits limits)
    {
        var shortest = TimeSpan.FromSeconds(4);
        foreach (var limit in new[] { limits.HandshakeTimeout, limits.IdleTimeout, limits.FrameTimeout })
        {
            if (limit != Timeout.InfiniteTimeSpan && limit < shortest)
            {
                shortest = limit;
            }
        }

        var period = shortest / 4;
        return period < TimeSpan.FromMilliseconds(100) ? TimeSpan.FromMilliseconds(100) : period;
    }

    private void Sweep()
    {
        IWatchedConnection[] connections;
        lock (_connections)
        {
            connections = [.. _connections];
        }

        var now = _time.GetTimestamp();
        foreach (var connection in connections)
        {
            try
            {
                connection.CheckTimeouts(now);
            }
            catch (Exception)
            {
                // A connection that fails its own check is closing anyway; the sweep goes on.
            }
        }
    }
}
