using System.Threading.Channels;
using Microsoft.Extensions.Time.Testing;

namespace RpcGen.Balancing.Tests;

/// <summary>
/// A fake clock that also reports each timer created on it, so a test advances time only once the
/// wait it means to cut short (a retry backoff, a hedging delay) has begun: no race with the code
/// under test, and no real time spent.
/// </summary>
internal sealed class ObservedTimeProvider : FakeTimeProvider
{
    private readonly Channel<TimeSpan> _timers = Channel.CreateUnbounded<TimeSpan>();

    public override ITimer CreateTimer(TimerCallback callback, object? state, TimeSpan dueTime, TimeSpan period)
    {
        var timer = base.CreateTimer(callback, state, dueTime, period);
        _timers.Writer.TryWrite(dueTime);
        return timer;
    }

    /// <summary>Waits until a timer due in <paramref name="dueTime"/> has been created.</summary>
    public async Task WaitForTimerAsync(TimeSpan dueTime, TimeSpan timeout)
    {
        using var cts = new CancellationTokenSource(timeout);
        while (await _timers.Reader.ReadAsync(cts.Token) != dueTime)
        {
        }
    }

    /// <summary>Whether a timer due in <paramref name="dueTime"/> was created and not yet awaited by <see cref="WaitForTimerAsync"/>.</summary>
    public bool HasPendingTimer(TimeSpan dueTime)
    {
        var found = false;
        while (_timers.Reader.TryRead(out var due))
        {
            found |= due == dueTime;
        }

        return found;
    }
}
