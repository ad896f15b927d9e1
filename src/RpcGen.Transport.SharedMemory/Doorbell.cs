namespace RpcGen.Transport.SharedMemory;

/// <summary>
/// The futex word a link's receiving thread sleeps on, one per direction, in shared memory (the
/// reserved word of that direction's lane window header, <see cref="PacketHeader.DoorbellOffset"/>).
/// Bit 0 is the sleeper's announcement; the other bits count rings.
/// <list type="bullet">
/// <item>Why a word of its own: the receiving thread waits for a hand-off on any of several windows
/// (the next ring window and the call lane) and for local events (the cursor moved, a poller left).
/// A wake that does not change the word the thread sleeps on is lost when it lands between the
/// thread's last look and its FUTEX_WAIT (the kernel sees the old value and sleeps). Every ring here
/// changes the word, so a sleeper that compared the old value either gets EAGAIN or is woken.</item>
/// <item>Protocol: the sleeper sets bit 0 with a full fence (<see cref="Announce"/>), looks at every
/// condition it waits for, then sleeps while the word still holds what the announcement returned.
/// A waker changes a condition (a hand-off's compare-and-swap, a cursor move: full fences), then
/// <see cref="Ring"/>s: only when bit 0 is set does it clear it and add a count in one
/// compare-and-swap and FUTEX_WAKE. Either the sleeper saw the condition, or the waker saw the
/// announcement: no lost wake, and no system call while nobody sleeps.</item>
/// <item>Distrust: the peer can write the word at any time. The value is only ever compared by the
/// kernel and tested for bit 0, so a hostile peer can cost this side a wake-up or a system call,
/// never a wrong read; a sleep is still bounded by the endpoint's slice, and a peer that keeps
/// changing the word makes a ring give up its compare-and-swap after a few tries and wake anyway.</item>
/// </list>
/// </summary>
internal sealed unsafe class Doorbell
{
    private const int SleeperBit = 1;
    private const int Count = 2;

    // A hostile peer may keep rewriting the word under a ring's compare-and-swap.
    private const int RingTries = 4;

    private readonly int* _word;

    // 1 while a thread of this process sleeps on the word, so a local ring costs one local read otherwise.
    private int _localSleeper;

    /// <summary>A doorbell on <paramref name="word"/>, a 4-byte aligned word of the shared mapping.</summary>
    public Doorbell(int* word) => _word = word;

    /// <summary>Whether a thread of this process announced a sleep and has not woken yet.</summary>
    public bool HasLocalSleeper => Volatile.Read(ref _localSleeper) != 0;

    /// <summary>Announces a sleep (a full fence); returns the value to hand to <see cref="Sleep"/> after looking at every condition once more.</summary>
    public int Announce()
    {
        Volatile.Write(ref _localSleeper, 1);
        return Interlocked.Or(ref *_word, SleeperBit) | SleeperBit;
    }

    /// <summary>Sleeps while the word still holds <paramref name="announced"/>, at most <paramref name="slice"/>.</summary>
    public void Sleep(int announced, TimeSpan slice) => Futex.Wait(_word, announced, slice);

    /// <summary>The announced sleep is over (woken, timed out, or not needed after all).</summary>
    public void Woke() => Volatile.Write(ref _localSleeper, 0);

    /// <summary>After a full fence that published a change the sleeper waits for: wakes it if it announced a sleep.</summary>
    public void Ring()
    {
        var word = Volatile.Read(ref *_word);
        if ((word & SleeperBit) == 0)
        {
            return;
        }

        for (var tries = 0; tries < RingTries; tries++)
        {
            var seen = Interlocked.CompareExchange(ref *_word, unchecked(word + Count) & ~SleeperBit, word);
            if (seen == word)
            {
                break;
            }

            if ((seen & SleeperBit) == 0)
            {
                // Another ring cleared the announcement and wakes the sleeper.
                return;
            }

            word = seen;
        }

        Futex.Wake(_word, int.MaxValue);
    }

    /// <summary>
    /// Takes a local sleeper's announcement back without waking it, while a thread of this process
    /// polls and takes what hand-offs bring: they then cost the peer no system call and the sleeper
    /// no wake-up it would only go back to sleep from. A sleeper that has not entered the kernel yet
    /// finds the word changed and looks again. <see cref="Rearm"/> puts it back.
    /// </summary>
    public void Withdraw()
    {
        var word = Volatile.Read(ref *_word);
        if ((word & SleeperBit) != 0)
        {
            // Losing to a ring (which wakes the sleeper) or to the peer is fine either way.
            Interlocked.CompareExchange(ref *_word, word & ~SleeperBit, word);
        }
    }

    /// <summary>Announces again for a local sleeper whose announcement was withdrawn (a full fence); the caller then looks whether it must be woken at once.</summary>
    public void Rearm() => Interlocked.Or(ref *_word, SleeperBit);

    /// <summary>Changes the word and wakes every sleeper whether or not one announced itself (the link stopped).</summary>
    public void RingAlways()
    {
        Interlocked.Add(ref *_word, Count);
        Futex.Wake(_word, int.MaxValue);
    }
}
