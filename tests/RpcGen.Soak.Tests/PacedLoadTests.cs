using System.Threading.Channels;
using Microsoft.Extensions.Time.Testing;

namespace RpcGen.Soak.Tests;

/// <summary>
/// The paced phase's generator on a fake clock: it must sleep between starts, never spin. A spinning
/// generator takes a whole core from the calls it times, which made the paced p99 on an idle 2-core
/// machine 48 times the unloaded one.
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
