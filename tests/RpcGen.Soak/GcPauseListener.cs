using System.Collections.Concurrent;
using System.Diagnostics.Tracing;

namespace RpcGen.Soak;

/// <summary>
/// The runtime's GC events (the GC keyword only, informational level), for the paced-latency profile:
/// each collection's generation and its pause, from the suspension's start to the restart's end.
/// Process-wide, like the collections it sees; it listens only while a profile runs.
/// </summary>
public sealed class GcPauseListener : EventListener
{
    private const string RuntimeSource = "Microsoft-Windows-DotNETRuntime";
    private const EventKeywords GcKeyword = (EventKeywords)0x1;

    // Event ids of the runtime's GC events (ClrEtwAll.man).
    private const int GcStart = 1;
    private const int GcRestartEeEnd = 3;
    private const int GcSuspendEeBegin = 9;

    private readonly ConcurrentQueue<(DateTime At, int Id, int Generation)> _events = new();

    /// <summary>One stop-the-world pause: when it began (UTC), how long it lasted, and the deepest generation collected in it.</summary>
    public readonly record struct Pause(DateTime Began, TimeSpan Length, int Generation);

    protected override void OnEventSourceCreated(EventSource eventSource)
    {
        if (eventSource.Name == RuntimeSource)
        {
            EnableEvents(eventSource, EventLevel.Informational, GcKeyword);
        }
    }

    protected override void OnEventWritten(EventWrittenEventArgs eventData)
    {
        if (eventData.EventId is not (GcStart or GcRestartEeEnd or GcSuspendEeBegin))
        {
            return;
        }

        var generation = eventData.EventId == GcStart && eventData.PayloadNames?.IndexOf("Depth") is int at and >= 0
            ? Convert.ToInt32(eventData.Payload![at], System.Globalization.CultureInfo.InvariantCulture)
            : -1;
        _events.Enqueue((eventData.TimeStamp.ToUniversalTime(), eventData.EventId, generation));
    }

    /// <summary>The pauses seen so far, each a suspension's begin paired with the next restart's end.</summary>
    public List<Pause> Pauses()
    {
        var pauses = new List<Pause>();
        DateTime? suspended = null;
        var generation = -1;
        foreach (var (at, id, depth) in _events.OrderBy(e => e.At))
        {
            switch (id)
            {
                case GcSuspendEeBegin:
                    suspended = at;
                    generation = -1;
                    break;
                case GcStart:
                    generation = Math.Max(generation, depth);
                    break;
                case GcRestartEeEnd when suspended is { } began:
                    pauses.Add(new Pause(began, at - began, generation));
                    suspended = null;
                    break;
            }
        }

        return pauses;
    }
}
