namespace RpcGen.Transport.Message;

/// <summary>
/// Decides which of a connection's "stopped reading" / "stopped starting calls" lines are written.
/// A peer that never reads makes the connection pause and resume as often as its queue drains and
/// refills, thousands of times a second; one line per pause let such a peer flood the server's log
/// (19,031 lines from one connection in a few seconds, found by the memory test of issue 18). The
/// first pause is always logged; after it, at most one line per <see cref="Interval"/>, each saying
/// how many pauses went unlogged since the line before.
/// Invariant: lock-free. Two threads (the reader, a handler taking its turn) may race for the same
/// slot; at worst both write a line, never none for a whole interval in which a pause happened.
/// </summary>
internal struct PauseLogThrottle
{
    /// <summary>The least time between two pause lines of one connection.</summary>
    public static readonly TimeSpan Interval = TimeSpan.FromSeconds(1);

    // Milliseconds on the given clock before which no line is written; 0 until the first pause.
    private long _quietUntil;

    // Pauses not logged since the last line.
    private long _unlogged;

    /// <summary>
    /// Records a pause at <paramref name="nowMilliseconds"/> (a monotonic clock). True when this pause
    /// should be logged, with <paramref name="unloggedBefore"/> the pauses skipped since the last line.
    /// </summary>
    public bool ShouldLog(long nowMilliseconds, out long unloggedBefore)
    {
        var quietUntil = Volatile.Read(ref _quietUntil);
        if (quietUntil != 0 && nowMilliseconds < quietUntil)
        {
            Interlocked.Increment(ref _unlogged);
            unloggedBefore = 0;
            return false;
        }

        var next = Math.Max(1, nowMilliseconds + (long)Interval.TotalMilliseconds);
        if (Interlocked.CompareExchange(ref _quietUntil, next, quietUntil) != quietUntil)
        {
            // Another thread took this slot and writes the line.
            Interlocked.Increment(ref _unlogged);
            unloggedBefore = 0;
            return false;
        }

        unloggedBefore = Interlocked.Exchange(ref _unlogged, 0);
        return true;
    }
}
