namespace RpcGen.Transport.Message.Tests;

/// <summary>
/// A connection's pause lines ("stopped reading", "stopped starting calls") are rate-limited: a peer
/// that never reads made one connection write 19,031 of them in a few seconds (issue 18).
/// </summary>
public class PauseLogThrottleTests
{
    [Fact]
    public void The_first_pause_is_logged_then_at_most_one_a_second_each_counting_the_pauses_it_skipped()
    {
        var throttle = new PauseLogThrottle();
        var now = 5_000L;

        Assert.True(throttle.ShouldLog(now, out var skipped));
        Assert.Equal(0, skipped);

        // Ten thousand pauses within the same second write nothing more.
        for (var i = 0; i < 10_000; i++)
        {
            Assert.False(throttle.ShouldLog(now + (i % 999), out _));
        }

        // The first pause a second later is logged and says how many went unlogged.
        Assert.True(throttle.ShouldLog(now + 1_000, out skipped));
        Assert.Equal(10_000, skipped);
        Assert.False(throttle.ShouldLog(now + 1_500, out _));
        Assert.True(throttle.ShouldLog(now + 60_000, out skipped));
        Assert.Equal(1, skipped);
    }

    [Fact]
    public void A_clock_that_reads_zero_still_logs_the_first_pause_and_throttles_the_next()
    {
        var throttle = new PauseLogThrottle();
        Assert.True(throttle.ShouldLog(0, out _));
        Assert.False(throttle.ShouldLog(0, out _));
        Assert.False(throttle.ShouldLog(999, out _));
        Assert.True(throttle.ShouldLog(1_000, out var skipped));
        Assert.Equal(2, skipped);
    }
}
