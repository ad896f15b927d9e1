namespace RpcGen.Soak;

/// <summary>How a paced run went: the calls it started, and its generator's worst lateness.</summary>
/// <param name="Started">Calls started.</param>
/// <param name="WorstLateStart">How far behind its schedule the generator started a call at worst.</param>
public sealed record PacedRun(long Started, TimeSpan WorstLateStart);

/// <summary>
/// Open-loop load: call n starts at n / rate seconds after the first, whether or not the earlier calls
/// have ended, so a slow answer does not slow the offered load (a closed loop would measure queueing
/// behind its own callers). Timers wake about once a millisecond: the calls that fell due meanwhile
/// start together, each timed from its own start, and the worst lateness is reported with the result.
/// </summary>
public static class PacedLoad
{
    /// <summary>
    /// The shortest wait between two starts. <see cref="Task.Delay(TimeSpan, TimeProvider)"/> truncates
    /// to whole milliseconds and completes at once below one, so waiting for a call due sooner would spin
    /// the generator on a core the calls need (at 25% of 15,000 calls/s, every wait is shorter).
    /// </summary>
    public static readonly TimeSpan ShortestWait = TimeSpan.FromMilliseconds(1);

    /// <summary>Starts <c>rate × time</c> calls of <paramref name="issue"/> on schedule, then waits for all of them to end.</summary>
    /// <param name="rate">Calls per second.</param>
    /// <param name="time">How long to keep starting calls.</param>
    /// <param name="issue">Starts call n.</param>
    /// <param name="clock">The clock the schedule follows; the system's when null.</param>
    public static async Task<PacedRun> RunAsync(double rate, TimeSpan time, Func<long, Task> issue, TimeProvider? clock = null)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(rate);
        clock ??= TimeProvider.System;
        var total = (long)(rate * time.TotalSeconds);
        var started = new List<Task>();
        var origin = clock.GetTimestamp();
        var worst = TimeSpan.Zero;
        for (long n = 0; n < total;)
        {
            var due = TimeSpan.FromSeconds(n / rate);
            var now = clock.GetElapsedTime(origin);
            if (due > now)
            {
                var wait = due - now;
                await Task.Delay(wait < ShortestWait ? ShortestWait : wait, clock);
                continue;
            }

            worst = now - due > worst ? now - due : worst;
            started.Add(issue(n));
            n++;
        }

        await Task.WhenAll(started);
        return new PacedRun(total, worst);
    }
}
