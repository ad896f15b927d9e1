using System.Collections.Concurrent;
using System.Diagnostics;
using RpcGen.Telemetry;

namespace RpcGen.Transport.Message.Tests;

/// <summary>
/// Collects the RpcGen spans of the traces a test starts itself. Activity listeners are process-wide
/// and tests run in parallel, so every span is kept only when its trace id belongs to one of this
/// collector's roots: spans of other tests' calls never reach the assertions.
/// </summary>
public sealed class SpanCollector : IDisposable
{
    private const string RootsName = "RpcGen.Tests.Roots";
    private static readonly ActivitySource s_roots = new(RootsName);

    private readonly ConcurrentDictionary<ActivityTraceId, byte> _traces = new();
    private readonly ConcurrentQueue<Activity> _stopped = new();
    private readonly SemaphoreSlim _arrivals = new(0);
    private readonly ActivityListener _listener;

    public SpanCollector()
    {
        _listener = new ActivityListener
        {
            ShouldListenTo = source => source.Name is RpcTelemetry.Name or RootsName,
            // Only this collector's traces: the listener is process-wide, and sampling every RpcGen
            // span would give calls of tests running alongside a trace context they do not expect.
            Sample = (ref ActivityCreationOptions<ActivityContext> options) =>
                options.Source.Name == RootsName || _traces.ContainsKey(options.Parent.TraceId)
                    ? ActivitySamplingResult.AllDataAndRecorded
                    : ActivitySamplingResult.None,
            ActivityStopped = activity =>
            {
                if (activity.Source.Name == RpcTelemetry.Name && _traces.ContainsKey(activity.TraceId))
                {
                    _stopped.Enqueue(activity);
                    _arrivals.Release();
                }
            },
        };
        ActivitySource.AddActivityListener(_listener);
    }

    /// <summary>Starts a root span (current on this flow until disposed) whose trace this collector keeps.</summary>
    public Activity StartRoot(string name)
    {
        var root = s_roots.StartActivity(name, ActivityKind.Internal, parentContext: default)!;
        _traces.TryAdd(root.TraceId, 0);
        return root;
    }

    /// <summary>Waits until at least <paramref name="count"/> spans of this collector's traces have stopped; returns them all.</summary>
    public async Task<IReadOnlyList<Activity>> WaitForAsync(int count, TimeSpan timeout)
    {
        using var cts = new CancellationTokenSource(timeout);
        while (_stopped.Count < count)
        {
            await _arrivals.WaitAsync(cts.Token);
        }

        return _stopped.ToArray();
    }

    public void Dispose() => _listener.Dispose();
}
