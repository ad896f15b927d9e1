using System.Diagnostics;
using System.Diagnostics.Metrics;

namespace RpcGen.Telemetry;

/// <summary>
/// The <see cref="ActivitySource"/> and <see cref="Meter"/> RpcGen reports through, following the
/// OpenTelemetry RPC semantic conventions as of v1.37 (the experimental set that the newer stable one
/// tells existing instrumentations to keep emitting by default): spans named <c>Service/Method</c> with
/// <c>rpc.system</c>, <c>rpc.service</c>, <c>rpc.method</c>, <c>network.transport</c>,
/// <c>server.address</c>/<c>server.port</c> (client spans) or <c>client.address</c>/<c>client.port</c>
/// (server spans), and <c>rpc.response.status_code</c>; duration histograms <c>rpc.client.duration</c>
/// and <c>rpc.server.duration</c> in milliseconds. Subscribe with <c>AddSource("RpcGen")</c> and
/// <c>AddMeter("RpcGen")</c>.
/// </summary>
/// <remarks>
/// Every call carries the W3C trace context of the caller's span (<c>traceparent</c>, <c>tracestate</c>,
/// <c>baggage</c>, written by <see cref="DistributedContextPropagator.Current"/>) in its request headers,
/// and the server span is that span's child; a call without one starts a new trace. No span ever takes
/// its parent from whatever happens to be current on the thread that reads the connection.
/// </remarks>
public static class RpcTelemetry
{
    /// <summary>The name of the activity source and the meter.</summary>
    public const string Name = "RpcGen";

    /// <summary>The tag that carries the call's outcome (an <see cref="RpcStatusCode"/> name, e.g. <c>Ok</c>).</summary>
    public const string StatusCodeTag = "rpc.response.status_code";

    /// <summary>The tag a failed call's span carries: the <see cref="RpcStatusCode"/> name it failed with.</summary>
    public const string ErrorTypeTag = "error.type";

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
    public static Activity? StartClient(RpcMethodInfo method) => StartClient(method, peerTags: null);

    /// <summary>Starts a server span without a remote parent (a new trace) when anyone listens; null otherwise.</summary>
    public static Activity? StartServer(RpcMethodInfo method) => StartServer(method, requestHeaders: null, peerTags: null);

    /// <summary>
    /// Starts a client span, the child of the caller's current span, and leaves the caller's current
    /// span as it was: the call's span is passed around explicitly. (Left current, it would outlive the
    /// call in a caller whose proxy is not an async method, and parent that caller's next calls.)
    /// </summary>
    internal static Activity? StartClient(RpcMethodInfo method, KeyValuePair<string, object?>[]? peerTags)
    {
        if (!ActivitySource.HasListeners())
        {
            return null;
        }

        var callerSpan = Activity.Current;
        var activity = ActivitySource.StartActivity(method.FullName, ActivityKind.Client, parentContext: default, tags: method.Tags);
        Activity.Current = callerSpan;
        AddTags(activity, peerTags);
        return activity;
    }

    /// <summary>
    /// Starts a server span whose parent is the remote span named by the trace context in
    /// <paramref name="requestHeaders"/>, or none (a new trace) when they carry none: never the span
    /// current on this thread, which on a connection's reader is whatever call it handled last. The
    /// span is current when this returns; the transport restores the previous one after dispatch.
    /// </summary>
    internal static Activity? StartServer(RpcMethodInfo method, RpcMetadata? requestHeaders, KeyValuePair<string, object?>[]? peerTags)
    {
        if (!ActivitySource.HasListeners())
        {
            return null;
        }

        ActivityContext parent = default;
        IEnumerable<KeyValuePair<string, string?>>? baggage = null;
        if (requestHeaders is not null)
        {
            var propagator = DistributedContextPropagator.Current;
            propagator.ExtractTraceIdAndState(requestHeaders, s_getHeader, out var traceParent, out var traceState);
            if (traceParent is not null && !ActivityContext.TryParse(traceParent, traceState, isRemote: true, out parent))
            {
                parent = default;
            }

            baggage = propagator.ExtractBaggage(requestHeaders, s_getHeader);
        }

        Activity.Current = null;
        var activity = ActivitySource.StartActivity(method.FullName, ActivityKind.Server, parent, tags: method.Tags);
        if (activity is not null && baggage is not null)
        {
            foreach (var item in baggage)
            {
                activity.AddBaggage(item.Key, item.Value);
            }
        }

        AddTags(activity, peerTags);
        return activity;
    }

    /// <summary>
    /// The W3C trace context of <paramref name="callSpan"/> (or, when the call has no span of its own,
    /// of the caller's current one) as request headers; null when there is no span at all.
    /// </summary>
    internal static RpcMetadata? InjectTraceContext(Activity? callSpan)
    {
        var span = callSpan ?? Activity.Current;
        if (span is null)
        {
            return null;
        }

        var headers = new RpcMetadata();
        DistributedContextPropagator.Current.Inject(span, headers, s_setHeader);
        return headers.Count == 0 ? null : headers;
    }

    /// <summary>
    /// The address tags of calls over a connection to <paramref name="peer"/> (an RpcGen address):
    /// <c>server.*</c> for the calls this side makes, <c>client.*</c> for the ones it serves.
    /// </summary>
    internal static (KeyValuePair<string, object?>[] Outbound, KeyValuePair<string, object?>[] Inbound) PeerTags(string peer)
    {
        if (!Links.RpcAddress.TryParse(peer, out var address))
        {
            return ([], []);
        }

        var (transport, host, port) = address.Scheme switch
        {
            Links.RpcAddressScheme.Tcp => ("tcp", address.Host, (object?)address.Port),
            Links.RpcAddressScheme.Unix => ("unix", address.Path, null),
            _ => ("pipe", address.Path, null),
        };
        return (Tags("server", transport, host, port), Tags("client", transport, host, port));

        static KeyValuePair<string, object?>[] Tags(string role, string transport, string host, object? port) => port is null
            ? [new("network.transport", transport), new(role + ".address", host)]
            : [new("network.transport", transport), new(role + ".address", host), new(role + ".port", port)];
    }

    private static readonly DistributedContextPropagator.PropagatorSetterCallback s_setHeader = static (carrier, name, value) =>
    {
        if (value is not null)
        {
            ((RpcMetadata)carrier!).Add(name, value);
        }
    };

    private static readonly DistributedContextPropagator.PropagatorGetterCallback s_getHeader = static (object? carrier, string name, out string? value, out IEnumerable<string>? values) =>
    {
        value = ((RpcMetadata)carrier!).GetString(name);
        values = null;
    };

    private static void AddTags(Activity? activity, KeyValuePair<string, object?>[]? tags)
    {
        if (activity is null || tags is null)
        {
            return;
        }

        foreach (var tag in tags)
        {
            activity.SetTag(tag.Key, tag.Value);
        }
    }

    /// <summary>Records a finished client call: its duration (when anyone listens) and its span's outcome.</summary>
    public static void StopClient(RpcMethodInfo method, long startTimestamp, RpcStatusCode status, Activity? activity) =>
        Stop(ClientDuration, method, startTimestamp, status, activity);

    /// <summary>Records a finished server call.</summary>
    public static void StopServer(RpcMethodInfo method, long startTimestamp, RpcStatusCode status, Activity? activity) =>
        Stop(ServerDuration, method, startTimestamp, status, activity);

    /// <summary>Whether durations are being recorded (so callers can skip reading the clock).</summary>
    public static bool IsMeasuring => ClientDuration.Enabled || ServerDuration.Enabled;

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
            if (status != RpcStatusCode.Ok)
            {
                activity.SetTag(ErrorTypeTag, statusName);
            }

            activity.SetStatus(status == RpcStatusCode.Ok ? ActivityStatusCode.Ok : ActivityStatusCode.Error);
            activity.Dispose();
        }
    }
}
