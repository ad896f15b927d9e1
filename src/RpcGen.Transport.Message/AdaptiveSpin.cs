using System.Diagnostics;

namespace RpcGen.Transport.Message;

/// <summary>
/// A bounded, adaptive spin for a thread that expects the next step of a call within microseconds
/// (see <see cref="RpcGen.Links.RpcLink.HandOffSpin"/>). The budget in force halves each time a spin
/// runs out (the step took longer, or the machine is too busy for spinning to pay) and doubles, up to
/// the configured budget, each time a spin catches the step; it never drops below a floor of about a
/// microsecond, so a peer that becomes fast again is noticed. The first rounds busy-wait; later rounds
/// yield the core, so on a busy machine the thread that must produce the step can run, even on this
/// very core.
/// <para>Thread safety: the budget is a plain field that concurrent spinners may race on; a lost
/// update only delays the adaptation by one spin.</para>
/// </summary>
internal sealed class AdaptiveSpin
{
    // Busy rounds (16 pause instructions each, ~0.1-0.5 µs) before each round yields the core instead.
    private const int BusyRounds = 64;

    private readonly long _maxTicks;
    private readonly long _minTicks;
    private long _ticks;

    // Spins started; races between threads only blur which spin probes.
    private int _spins;

    // Every this many spins one runs the full budget (see Deadline).
    private const int ProbeInterval = 16;

    /// <summary>A spin of at most <paramref name="budget"/>; <see cref="IsEnabled"/> is false for zero.</summary>
    public AdaptiveSpin(TimeSpan budget)
    {
        _maxTicks = Math.Max(0, (long)(budget.TotalSeconds * Stopwatch.Frequency));
        _minTicks = Math.Min(_maxTicks, Stopwatch.Frequency / 1_000_000);
        _ticks = _maxTicks;
    }

    /// <summary>Whether spinning is configured at all.</summary>
    public bool IsEnabled => _maxTicks > 0;

    /// <summary>
    /// The timestamp (<see cref="Stopwatch.GetTimestamp"/>) at which a spin starting now gives up.
    /// Every <see cref="ProbeInterval"/>th spin runs the full budget whatever the budget in force, so
    /// a budget shrunk to its floor on a busy spell finds out when spinning pays again.
    /// </summary>
    public long Deadline()
    {
        var ticks = ++_spins % ProbeInterval == 0 ? _maxTicks : Volatile.Read(ref _ticks);
        return Stopwatch.GetTimestamp() + ticks;
    }

    /// <summary>
    /// What the spin was for came <paramref name="waitedTicks"/> after a spin that gave up had started:
    /// a spin of that length would have caught it, so the budget grows to cover it (up to the
    /// configured one).
    /// </summary>
    public void CameAfter(long waitedTicks)
    {
        if (waitedTicks < _maxTicks)
        {
            Volatile.Write(ref _ticks, Math.Min(_maxTicks, Math.Max(Volatile.Read(ref _ticks), waitedTicks + (waitedTicks / 2))));
        }
    }

    /// <summary>Waits one round; returns false (and halves the budget) once <paramref name="deadline"/> has passed.</summary>
    public bool SpinOnce(ref int rounds, long deadline)
    {
        if (Stopwatch.GetTimestamp() >= deadline)
        {
            Volatile.Write(ref _ticks, Math.Max(_minTicks, Volatile.Read(ref _ticks) / 2));
            return false;
        }

        if (rounds++ < BusyRounds)
        {
            Thread.SpinWait(16);
        }
        else
        {
            Thread.Yield();
        }

        return true;
    }

    /// <summary>The awaited step came while spinning: doubles the budget, up to the configured one.</summary>
    public void Caught() => Volatile.Write(ref _ticks, Math.Min(_maxTicks, Math.Max(_minTicks, Volatile.Read(ref _ticks) * 2)));
}
