namespace RpcGen.Soak;

/// <summary>How a paced run went: the calls it started, and its generator's worst lateness.</summary>
/// <param name="Started">Calls started.</param>
/// <param name="WorstLateStart">How far behind its schedule the generator started a call at worst.</param>
public sealed record PacedRun(long Started, TimeSpan WorstLateStart);

/// <summary>
/// Open-loop load: call n starts at n / rate seconds after the first, whether or not the earlier calls
/// have ended, so a slow answer does not slow the offered load (a closed loop would measure queueing
/// behind its own callers). The generator runs on its own thread and sleeps until each call falls due
/// (<see cref="PreciseSleep"/>), so at 4,000 calls/s the calls start one by one, 250 µs apart, as the
/// schedule says. It used to wait with <see cref="Task.Delay(TimeSpan, TimeProvider)"/>, whose timer wakes
/// at best once a millisecond and then on a thread-pool thread, behind whatever the pool had queued: the
/// calls that fell due meanwhile started in a burst (4 on an idle machine, 16 and more on a busy one,
/// dozens after a stall), each queueing behind its burst-mates — queueing the generator made, timed as
/// if it were the framework's latency. Each call is timed from its own start, so lateness itself is never
/// in a round trip; the worst lateness is reported with the result.
/// </summary>
public static class PacedLoad
{
    /// <summary>
    /// The shortest wait between two starts with a fake clock (tests), whose timers, like
    /// <see cref="Task.Delay(TimeSpan, TimeProvider)"/>'s, count whole milliseconds.
    /// </summary>
    public static readonly TimeSpan ShortestWait = TimeSpan.FromMilliseconds(1);

    /// <summary>Starts <c>rate × time</c> calls of <paramref name="issue"/> on schedule, then waits for all of them to end.</summary>
    /// <param name="rate">Calls per second.</param>
    /// <param name="time">How long to keep starting calls.</param>
    /// <param name="issue">Starts call n.</param>
    /// <param name="clock">The clock the schedule follows; the system's when null.</param>
    public static Task<PacedRun> RunAsync(double rate, TimeSpan time, Func<long, Task> issue, TimeProvider? clock = null) =>
        RunAsync(rate, time, (n, _) => issue(n), clock);

    /// <summary>As the other overload; <paramref name="issue"/> also learns how far behind its schedule call n starts.</summary>
    public static async Task<PacedRun> RunAsync(double rate, TimeSpan time, Func<long, TimeSpan, Task> issue, TimeProvider? clock = null)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(rate);
        clock ??= TimeProvider.System;
        var total = (long)(rate * time.TotalSeconds);
        var started = new List<Task>();
        var worst = TimeSpan.Zero;
        var generator = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);

        // Its own thread: a thread-pool thread would wake behind the pool's queue, and the calls it
        // starts would then start late and together.
        var thread = new Thread(() =>
        {
            try
            {
                worst = Generate(rate, total, issue, clock, started);
                generator.SetResult();
            }
            catch (Exception ex)
            {
                generator.SetException(ex);
            }
        })
        {
            IsBackground = true,
            Name = "paced load",
        };
        thread.Start();
        await generator.Task;
        await Task.WhenAll(started);
        return new PacedRun(total, worst);
    }

    private static TimeSpan Generate(double rate, long total, Func<long, TimeSpan, Task> issue, TimeProvider clock, List<Task> started)
    {
        var origin = clock.GetTimestamp();
        var worst = TimeSpan.Zero;
        for (long n = 0; n < total;)
        {
            var due = TimeSpan.FromSeconds(n / rate);
            var now = clock.GetElapsedTime(origin);
            if (due > now)
            {
                Wait(due - now, clock);
                continue;
            }

            var late = now - due;
            worst = late > worst ? late : worst;
            started.Add(issue(n, late));
            n++;
        }

        return worst;
    }

    private static void Wait(TimeSpan wait, TimeProvider clock)
    {
        if (clock == TimeProvider.System)
        {
            PreciseSleep.For(wait);
        }
        else
        {
            // A fake clock (tests) advances when its owner says: block this thread on its timer.
            Task.Delay(wait < ShortestWait ? ShortestWait : wait, clock).GetAwaiter().GetResult();
        }
    }
}
