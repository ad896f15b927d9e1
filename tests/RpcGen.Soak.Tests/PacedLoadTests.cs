using System.Threading.Channels;
using Microsoft.Extensions.Time.Testing;

namespace RpcGen.Soak.Tests;

/// <summary>
/// The paced phase's generator: on a fake clock it must sleep between starts, never spin (a spinning
/// generator takes a whole core from the calls it times, which made the paced p99 on an idle 2-core
/// machine 48 times the unloaded one); on the system clock it starts calls from its own thread, not
/// from a thread-pool wake that starts what fell due meanwhile in a burst.
/// </summary>
public class PacedLoadTests
{
    [Fact]
    public async Task The_generator_waits_at_least_a_tick_and_starts_the_calls_that_fell_due_together()
    {
        var clock = new TimerRecordingClock();
        var origin = clock.GetTimestamp();
        var issuedAt = new List<TimeSpan>();

        // 4,000 calls/s: a call falls due every 250 µs, shorter than any timer tick.
        var run = Task.Run(() => PacedLoad.RunAsync(4_000, TimeSpan.FromMilliseconds(20), n =>
        {
            lock (issuedAt)
            {
                issuedAt.Add(clock.GetElapsedTime(origin));
            }

            return Task.CompletedTask;
        }, clock));

        var bound = TimeSpan.FromSeconds(30);
        while (!run.IsCompleted)
        {
            var waiting = clock.NextTimerAsync();
            if (await Task.WhenAny(waiting, run).WaitAsync(bound) == run)
            {
                break;
            }

            clock.Advance(await waiting);
        }

        var result = await run.WaitAsync(bound);
        Assert.Equal(80, result.Started);
        Assert.Equal(80, issuedAt.Count);
        Assert.All(clock.DueTimes, due => Assert.True(due >= PacedLoad.ShortestWait, $"a timer of {due.TotalMicroseconds} µs"));

        // One wake per millisecond of schedule, each starting the four calls that fell due meanwhile.
        Assert.InRange(clock.DueTimes.Count, 19, 21);
        for (var n = 0; n < issuedAt.Count; n++)
        {
            var due = TimeSpan.FromSeconds(n / 4_000.0);
            Assert.InRange(issuedAt[n], due, due + PacedLoad.ShortestWait);
        }

        Assert.True(result.WorstLateStart < PacedLoad.ShortestWait, result.WorstLateStart.ToString());
    }

    [Fact]
    public async Task On_the_system_clock_the_generator_starts_every_call_from_its_own_thread_and_tells_each_its_lateness()
    {
        var starters = new List<(bool PoolThread, string? Name, TimeSpan Late)>();

        // 4,000 calls/s for 50 ms: each gap (250 µs) is below what a .NET timer can wait.
        var run = await PacedLoad.RunAsync(4_000, TimeSpan.FromMilliseconds(50), (n, late) =>
        {
            lock (starters)
            {
                starters.Add((Thread.CurrentThread.IsThreadPoolThread, Thread.CurrentThread.Name, late));
            }

            return Task.CompletedTask;
        }).WaitAsync(TimeSpan.FromSeconds(30));

        Assert.Equal(200, run.Started);
        Assert.Equal(200, starters.Count);

        // A pool thread would wake behind the pool's queue and start what fell due meanwhile in a burst.
        Assert.All(starters, s => Assert.False(s.PoolThread));
        Assert.All(starters, s => Assert.Equal("paced load", s.Name));
        Assert.All(starters, s => Assert.True(s.Late >= TimeSpan.Zero));
        Assert.Equal(starters.Max(s => s.Late), run.WorstLateStart);
    }

    [Fact]
    public void A_precise_sleep_below_a_millisecond_lasts_at_least_what_was_asked()
    {
        var asked = TimeSpan.FromMicroseconds(300);
        var watch = System.Diagnostics.Stopwatch.StartNew();
        PreciseSleep.For(asked);
        Assert.True(watch.Elapsed >= asked, $"slept {watch.Elapsed.TotalMicroseconds} µs");
    }

    /// <summary>A fake clock that records each timer it is asked for, in order, for the test to read one by one.</summary>
    private sealed class TimerRecordingClock : FakeTimeProvider
    {
        private readonly Channel<TimeSpan> _created = Channel.CreateUnbounded<TimeSpan>();

        public List<TimeSpan> DueTimes { get; } = [];

        /// <summary>The due time of the next timer not read yet, once it has been created.</summary>
        public Task<TimeSpan> NextTimerAsync() => _created.Reader.ReadAsync().AsTask();

        public override ITimer CreateTimer(TimerCallback callback, object? state, TimeSpan dueTime, TimeSpan period)
        {
            var timer = base.CreateTimer(callback, state, dueTime, period);
            lock (DueTimes)
            {
                DueTimes.Add(dueTime);
            }

            _created.Writer.TryWrite(dueTime);
            return timer;
        }
    }
}
