using System.Diagnostics;
using System.Diagnostics.Metrics;

namespace RpcGen.Telemetry;

/// <summary>
/// The <see cref="ActivitySource"/> and <see cref="Meter"/> RpcGen reports through, following the
/// OpenTelemetry RPC semantic conventions: spans named <c>Service/Method</c> with <c>rpc.system</c>,
/// <c>rpc.service</c>, <c>rpc.method</c>; duration histograms <c>rpc.client.duration</c> and
/// <c>rpc.server.duration</c> in milliseconds. Subscribe with <c>AddSource("RpcGen")</c> and
/// <c>AddMeter("RpcGen")</c>.
/// </summary>
public static class RpcTelemetry
{
    /// <summary>The name of the activity source and the meter.</summary>
    public const string Name = "RpcGen";

    /// <summary>The tag that carries the call's outcome (an <see cref="RpcStatusCode"/> name).</summary>
    public const string StatusCodeTag = "rpc.rpcgen.status_code";

    /// <summary>Spans for client and server calls.</summary>
    public static readonly ActivitySource ActivitySource = new(Name, typeof(RpcTelemetry).Assembly.GetName().Version?.ToString());

    /// <summary>The meter that owns the duration histograms.</summary>
    public static readonly Meter Meter = new(Name, typeof(RpcTelemetry).Assembly.GetName().Version?.ToString());

    internal static readonly Histogram<double> ClientDuration =
        Meter.CreateHistogram<double>("rpc.client.duration", "ms", "Duration of outbound RPCs.");

    internal static readonly Histogram<double> ServerDuration =
        Meter.CreateHistogram<double>("rpc.server.duration", "ms", "Duration of inbound RPCs.");

    private static readonly string[] s_statusNames = Enum.GetNames<RpcStatusCode>();

    /// <summary>Starts a client span when anyone listens; null otherwise (the common, free case).</summary>
    public static Activity? StartClient(RpcMethodInfo method) => Start(method, ActivityKind.Client);

    /// <summary>Starts a server span when anyone listens; null otherwise.</summary>
    public static Activity? StartServer(RpcMethodInfo method) => Start(method, ActivityKind.Server);

    /// <summary>Records a finished client call: its duration (when anyone listens) and its span's outcome.</summary>
    public static void StopClient(RpcMethodInfo method, long startTimestamp, RpcStatusCode status, Activity? activity) =>
        Stop(ClientDuration, method, startTimestamp, status, activity);

    /// <summary>Records a finished server call.</summary>
    public static void StopServer(RpcMethodInfo method, long startTimestamp, RpcStatusCode status, Activity? activity) =>
        Stop(ServerDuration, method, startTimestamp, status, activity);

    /// <summary>Whether durations are being recorded (so callers can skip reading the clock).</summary>
    public static bool IsMeasuring => ClientDuration.Enabled || ServerDuration.Enabled;

    private static Activity? Start(RpcMethodInfo method, ActivityKind kind)
    {
        if (!ActivitySource.HasListeners())
        {
            return null;
        }

        var activity = ActivitySource.StartActivity(method.FullName, kind, parentContext: default, tags: method.Tags);
        return activity;
    }

    private static void Stop(Histogram<double> histogram, RpcMethodInfo method, long startTimestamp, RpcStatusCode status, Activity? activity)
    {
        var statusName = (uint)status < (uint)s_statusNames.Length ? s_statusNames[(int)status] : status.ToString();
        if (histogram.Enabled && startTimestamp != 0)
        {
            var tags = method.Tags;
            var elapsed = Stopwatch.GetElapsedTime(startTimestamp).TotalMilliseconds;
            histogram.Record(elapsed, tags[0], tags[1], tags[2], new KeyValuePair<string, object?>(StatusCodeTag, statusName));
        }

        if (activity is not null)
        {
            activity.SetTag(StatusCodeTag, statusName);
            activity.SetStatus(status == RpcStatusCode.Ok ? ActivityStatusCode.Ok : ActivityStatusCode.Error);
            activity.Dispose();
        }
    }
}
