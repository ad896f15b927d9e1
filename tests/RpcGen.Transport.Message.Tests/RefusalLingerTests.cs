namespace RpcGen.Transport.Message.Tests;

/// <summary>
/// The bounds on lingering over refused connections (<see cref="RefusalLinger"/>): at most
/// <see cref="RefusalLinger.MaxLingering"/> at once, however many refusals race for a slot, and never
/// longer than a second or the handshake timeout. Tested on the class itself: over sockets, the 65th
/// refusal could only be told from the first 64 by racing their one-second linger against the clock.
/// (The linger itself, over tcp and tls: <see cref="RefusedConnectionTests"/>.)
/// </summary>
public class RefusalLingerTests
{
    private static readonly TimeSpan Timeout = TransportFixture.Timeout;

    [Fact]
    public void Past_the_bound_a_refused_connection_gets_no_slot_until_one_is_given_back()
    {
        var linger = new RefusalLinger(new RpcLimits());
        for (var i = 0; i < RefusalLinger.MaxLingering; i++)
        {
            Assert.True(linger.TryEnter(), $"slot {i + 1} of {RefusalLinger.MaxLingering} was refused");
        }

        Assert.False(linger.TryEnter());
        linger.Exit();
        Assert.True(linger.TryEnter());
        Assert.False(linger.TryEnter());
    }

    [Fact]
    public async Task Refusals_racing_for_slots_on_many_threads_get_exactly_the_bound()
    {
        // Every thread tries once, all released together, and holds what it got until all have
        // tried: exactly MaxLingering may win, whatever the interleaving of their compare-and-swaps.
        const int Threads = 3 * RefusalLinger.MaxLingering / 2;
        var linger = new RefusalLinger(new RpcLimits());
        using var start = new Barrier(Threads);
        using var tried = new Barrier(Threads);
        var won = 0;
        var threads = Enumerable.Range(0, Threads).Select(_ => Task.Factory.StartNew(
            () =>
            {
                Assert.True(start.SignalAndWait(Timeout), "not every thread started");
                var got = linger.TryEnter();
                if (got)
                {
                    Interlocked.Increment(ref won);
                }

                Assert.True(tried.SignalAndWait(Timeout), "not every thread tried");
                if (got)
                {
                    linger.Exit();
                }
            },
            CancellationToken.None,
            TaskCreationOptions.LongRunning,
            TaskScheduler.Default)).ToArray();
        await Task.WhenAll(threads).WaitAsync(Timeout);

        Assert.Equal(RefusalLinger.MaxLingering, won);

        // Every slot taken was given back.
        for (var i = 0; i < RefusalLinger.MaxLingering; i++)
        {
            Assert.True(linger.TryEnter());
        }

        Assert.False(linger.TryEnter());
    }

    [Theory]
    [InlineData(200, 200)]
    [InlineData(1_000, 1_000)]
    [InlineData(30_000, 1_000)]
    [InlineData(-1, 1_000)]
    public void A_refused_connection_lingers_a_second_at_most_and_never_past_the_handshake_timeout(int handshakeMilliseconds, int lingerMilliseconds)
    {
        var limits = new RpcLimits { HandshakeTimeout = TimeSpan.FromMilliseconds(handshakeMilliseconds) };
        Assert.Equal(TimeSpan.FromMilliseconds(lingerMilliseconds), new RefusalLinger(limits).Time);
    }
}
