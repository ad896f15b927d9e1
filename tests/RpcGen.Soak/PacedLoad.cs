using System.Diagnostics;

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
    /// <summary>Starts <c>rate × time</c> calls of <paramref name="issue"/> on schedule, then waits for all of them to end.</summary>
    public static async Task<PacedRun> RunAsync(double rate, TimeSpan time, Func<long, Task> issue)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(rate);
        var total = (long)(rate * time.TotalSeconds);
        var started = new List<Task>();
        var origin = Stopwatch.GetTimestamp();
        var worst = TimeSpan.Zero;
        for (long n = 0; n < total;)
        {
            var due = TimeSpan.FromSeconds(n / rate);
            var now = Stopwatch.GetElapsedTime(origin);
            if (due > now)
            {
                await Task.Delay(due - now);
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
