using System.Diagnostics;

namespace RpcGen.Transport.Message;

/// <summary>
/// A bounded, adaptive spin for a thread that expects the next step of a call within microseconds
/// (see <see cref="RpcGen.Links.RpcLink.HandOffSpin"/>). The budget adapts to how late the step
/// came, told by <see cref="CameAfter"/> once it arrives after a spin gave up:
/// <list type="bullet">
/// <item>Within the configured budget: the budget grows to cover it.</item>
/// <item>A near miss, within <see cref="NearMissBudgets"/> budgets: the budget stays. The step was late
/// because the other side was asleep (a thread wake costs ~70 µs on a 2-core VM), not because it is
/// slow, and it is asleep because this side was: when both sides give up, each side's answer costs
/// the other a wake, every call, for good. The next probe (see <see cref="Deadline"/>) spins that
/// long, so one side is running when the other's step comes, and both are fast again.</item>
/// <item>Later (a slow handler, a caller that thinks between calls, an idle connection): the budget
/// halves, down to a floor of about a microsecond, so a peer that becomes fast again is noticed.</item>
/// </list>
/// A spin that catches its step restores the whole budget. The first rounds busy-wait; later rounds
/// yield the core, so on a busy machine the thread that must produce the step can run, even on this
/// very core.
/// <para>Thread safety: the fields are plain ones that concurrent spinners may race on; a lost
/// update only delays the adaptation by one spin.</para>
/// </summary>
internal sealed class AdaptiveSpin
{
    // How long a spin busy-waits before each round yields the core instead: about what 64 rounds of
    // Thread.SpinWait(16) took on the 2-vCPU VM measured (0.66 µs each), the spin's former busy phase.
    private static readonly long s_busyTicks = Stopwatch.Frequency * 40 / 1_000_000;

    // Every this many spins one is a probe (see Deadline).
    private const int ProbeInterval = 16;

    // A step later than the budget by up to this factor is a near miss (see the class remarks); with
    // the default 20 µs, 160 µs: two thread wakes on the VM measured, well under a slow handler.
    private const int NearMissBudgets = 8;

    private readonly long _maxTicks;
    private readonly long _minTicks;
    private long _ticks;

    // How long the next probe spins: the configured budget, or up to NearMissBudgets of it after a
    // near miss, long enough to catch the step that came late.
    private long _probeTicks;

    // Spins started; races between threads only blur which spin probes.
    private int _spins;

    /// <summary>A spin of at most <paramref name="budget"/>; <see cref="IsEnabled"/> is false for zero.</summary>
    public AdaptiveSpin(TimeSpan budget)
    {
        _maxTicks = Math.Max(0, (long)(budget.TotalSeconds * Stopwatch.Frequency));
        _minTicks = Math.Min(_maxTicks, Stopwatch.Frequency / 1_000_000);
        _ticks = _maxTicks;
        _probeTicks = _maxTicks;
    }

    /// <summary>Whether spinning is configured at all.</summary>
    public bool IsEnabled => _maxTicks > 0;

    /// <summary>
    /// The timestamp (<see cref="Stopwatch.GetTimestamp"/>) at which a spin starting now gives up.
    /// Every <see cref="ProbeInterval"/>th spin is a probe: it runs the full budget whatever the
    /// budget in force, so a budget shrunk to its floor on a busy spell finds out when spinning pays
    /// again, and after a near miss it runs long enough to catch a step as late as that one.
    /// </summary>
    public long Deadline()
    {
        var ticks = ++_spins % ProbeInterval == 0 ? Volatile.Read(ref _probeTicks) : Volatile.Read(ref _ticks);
        return Stopwatch.GetTimestamp() + ticks;
    }

    /// <summary>
    /// What the spin was for came <paramref name="waitedTicks"/> after a spin that gave up had
    /// started: adapts the budget (see the class remarks).
    /// </summary>
    public void CameAfter(long waitedTicks)
    {
        if (waitedTicks <= _maxTicks)
        {
            Volatile.Write(ref _ticks, Math.Min(_maxTicks, Math.Max(Volatile.Read(ref _ticks), waitedTicks + (waitedTicks / 2))));
            Volatile.Write(ref _probeTicks, _maxTicks);
        }
        else if (waitedTicks <= _maxTicks * NearMissBudgets)
        {
            Volatile.Write(ref _probeTicks, Math.Min(_maxTicks * NearMissBudgets, waitedTicks + (waitedTicks / 2)));
        }
        else
        {
            Volatile.Write(ref _ticks, Math.Max(_minTicks, Volatile.Read(ref _ticks) / 2));
            Volatile.Write(ref _probeTicks, _maxTicks);
        }
    }

    /// <summary>
    /// Waits one round; returns false once <paramref name="deadline"/> has passed (the budget adapts
    /// when the step comes: <see cref="CameAfter"/>). <paramref name="busyUntil"/> starts at 0 and is
    /// the spin's own: rounds busy-wait until then, and yield the core after.
    /// <para>A busy round is one normalized pause (Thread.SpinWait(1), ~50 ns here), so the caller
    /// looks for its step every ~0.1 µs: with 16 pauses a round (~0.66 µs measured on the 2-vCPU VM)
    /// a step came on average a third of a microsecond before the spinner saw it, on each side of
    /// every hand-off. The spin's length is bounded by time, so a finer round costs no more CPU.</para>
    /// </summary>
    public bool SpinOnce(ref long busyUntil, long deadline)
    {
        var now = Stopwatch.GetTimestamp();
        if (now >= deadline)
        {
            return false;
        }

        if (busyUntil == 0)
        {
            busyUntil = now + s_busyTicks;
        }

        if (now < busyUntil)
        {
            Thread.SpinWait(1);
        }
        else
        {
            Thread.Yield();
        }

        return true;
    }

    /// <summary>The awaited step came while spinning: the whole configured budget is in force again.</summary>
    public void Caught()
    {
        Volatile.Write(ref _ticks, _maxTicks);
        Volatile.Write(ref _probeTicks, _maxTicks);
    }
}
