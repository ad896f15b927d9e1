using System.Diagnostics.Tracing;

namespace RpcGen.Benchmarks.Harness;

/// <summary>
/// Samples the runtime's AllocationTick events (one per ~100 KB allocated, naming the type whose
/// allocation crossed the mark), so a long enough run shows which types make up the bytes per call.
/// </summary>
public sealed class AllocationSampler : EventListener
{
    private const int AllocationTickEventId = 10;
    private const long GcKeyword = 0x1;

    private readonly Lock _gate = new();
    private readonly Dictionary<string, (long Samples, long Bytes)> _byType = new(StringComparer.Ordinal);
    private volatile bool _recording;

    public void Start() => _recording = true;

    public void Stop() => _recording = false;

    /// <summary>Types by sampled bytes, largest first.</summary>
    public IReadOnlyList<(string Type, long Samples, long Bytes)> Snapshot()
    {
        lock (_gate)
        {
            return [.. _byType.Select(p => (p.Key, p.Value.Samples, p.Value.Bytes)).OrderByDescending(t => t.Bytes)];
        }
    }

    protected override void OnEventSourceCreated(EventSource eventSource)
    {
        if (eventSource.Name == "Microsoft-Windows-DotNETRuntime")
        {
            EnableEvents(eventSource, EventLevel.Verbose, (EventKeywords)GcKeyword);
        }
    }

    protected override void OnEventWritten(EventWrittenEventArgs eventData)
    {
        if (!_recording || eventData.EventId != AllocationTickEventId || eventData.Payload is null || eventData.PayloadNames is null)
        {
            return;
        }

        var typeIndex = eventData.PayloadNames.IndexOf("TypeName");
        var amountIndex = eventData.PayloadNames.IndexOf("AllocationAmount64");
        if (typeIndex < 0)
        {
            return;
        }

        var type = eventData.Payload[typeIndex] as string ?? "?";
        var amount = amountIndex >= 0 && eventData.Payload[amountIndex] is ulong bytes ? (long)bytes : 100 * 1024;
        lock (_gate)
        {
            _byType.TryGetValue(type, out var current);
            _byType[type] = (current.Samples + 1, current.Bytes + amount);
        }
    }
}
