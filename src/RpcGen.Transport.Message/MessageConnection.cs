using System.Buffers;
using System.Diagnostics;
using System.IO.Pipelines;
using Microsoft.Extensions.Logging;
using RpcGen.Compression;
using RpcGen.Limits;
using RpcGen.Links;
using RpcGen.Logging;
using RpcGen.Serialization;
using RpcGen.Telemetry;

namespace RpcGen.Transport.Message;

/// <summary>
/// One connection of the message protocol over an <see cref="RpcLink"/>. Symmetric: either side
/// can call (<see cref="IRpcChannel"/>) and either side can serve (when given dispatchers), which is
/// what server push will build on.
/// </summary>
/// <remarks>
/// The connection's state is a few tables, each its own type with its invariants stated on top:
/// <see cref="OutboundCalls"/> (calls this side made), <see cref="InboundCalls"/> (the peer's calls
/// running here), <see cref="CapabilityTable"/> (exports and imports), <see cref="Outbox"/> (frames
/// on their way to the link, and the drain) and <see cref="ConnectionLifecycle"/> (open, draining,
/// closed). The partial files hold the steps that use them, one job each: <c>.Calling</c> (making
/// calls), <c>.Reading</c> (the reader loop and one handler per frame kind), <c>.Serving</c> (running
/// the peer's calls and answering), <c>.HandOff</c> (handing calls to the thread pool),
/// <c>.Writing</c> (when a writer drains), <c>.Capabilities</c>, <c>.Handshake</c>,
/// <c>.Intercepting</c> and <c>.Shutdown</c>.
/// <para>
/// Lock order: the inbound table's lock may be held while a call takes its own request-stream gate;
/// every other lock (the outbound table's, the exports', the imports') is a leaf, never nested with
/// another. The outbox and the lifecycle take no locks. No lock is held while user code runs or a
/// call this side made is completed.
/// </para>
/// </remarks>
internal sealed partial class MessageConnection : IRpcChannel, IRpcCapabilityTable, IAsyncDisposable, IWatchedConnection
{
    // A peer that keeps sending frames whose kind does not match the method (a one-way frame to a
    // two-way method, a request to a one-way one) has each refused; past this many it is aborted.
    private const int MaxMismatchedCalls = 16;

    private static long s_nextId;

    // The connection whose reader is handling a batch of frames on this thread. Frames that reader
    // writes meanwhile (responses, errors, credit) are queued and sent together when the batch
    // ends: one system call for a whole burst of calls instead of one each.
    [ThreadStatic]
    private static MessageConnection? t_readerBatch;

    private readonly RpcLink _link;
    private readonly RpcLimits _limits;
    private readonly IReadOnlyDictionary<ulong, IRpcDispatcher>? _dispatchers;
    private readonly TimeSpan? _defaultTimeout;
    private readonly Action<MessageConnection>? _onClosed;

    // The codec for calls this side makes (unless a scope overrides it) and the smallest payload
    // worth compressing. Responses use the codec of their request.
    private readonly RpcCompression _compression;
    private readonly int _compressionThreshold;

    // ---- Outbound frames -----------------------------------------------------------------------
    // Built frames waiting to be copied into the link, and the drain (see Outbox). Writers wait on
    // its Room while it holds more than MaxPendingBytes; a server's reader stops while the
    // server-wide budget says so.
    private readonly Outbox _outbox;

    // Which pause lines are written, one throttle for each kind, so a line about calls held back
    // does not hide the reader's stopping at the same moment (mutable structs: never copy them,
    // never make them readonly).
    private PauseLogThrottle _pauseLog;
    private PauseLogThrottle _heldBackLog;

    // Server connections only: the time limits the server's watchdog checks. Null on clients.
    private readonly ConnectionTimeouts? _timeouts;

    // Where inbound calls run their implementation: handed to the thread pool (the default) or on
    // the reader itself (see RpcHandlerExecution.Inline for the risk).
    private readonly RpcHandlerExecution _handlerExecution;

    // How long a lone caller spins for its answer before it awaits it (RpcLink.HandOffSpin; never
    // on links that report zero). Adapts to how fast answers come (see AdaptiveSpin).
    private readonly AdaptiveSpin _handOffSpin;

    // The address tags of this connection's spans (server.* on calls it makes, client.* on calls it
    // serves), computed once.
    private readonly (KeyValuePair<string, object?>[] Outbound, KeyValuePair<string, object?>[] Inbound) _peerTags;

    // ---- Inbound metadata ----------------------------------------------------------------------
    // The Metadata frame the reader got last, held for the frame it belongs to, which must be the very
    // next one (the sender writes both at once). Set and cleared by the reader only; at most one.
    private RpcMetadata? _heldMetadata;
    private uint _heldMetadataCallId;

    // Calls refused because their frame kind did not match their method's kind.
    private int _mismatchedCalls;

    // ---- Outbound calls ------------------------------------------------------------------------
    // Calls this side made and has not had an answer for (see OutboundCalls for its invariants).
    private readonly OutboundCalls _outboundCalls = new();

    // ---- Inbound calls -------------------------------------------------------------------------
    // Two-way calls the peer made that are still running (see InboundCalls).
    private readonly InboundCalls _inboundCalls = new();

    // ---- Capabilities --------------------------------------------------------------------------
    // Objects this side exported to the peer and the peer's exports it holds (see CapabilityTable).
    private readonly CapabilityTable _capabilities = new();

    // ---- Lifecycle -----------------------------------------------------------------------------
    // Open, draining or closed; the inbound calls a drain waits for; the peer's GoAway (see
    // ConnectionLifecycle).
    private readonly ConnectionLifecycle _lifecycle = new();

    // Why the connection closed; set once, before pending calls are failed.
    private volatile RpcException? _closeReason;
    private readonly TaskCompletionSource _closed = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private Task? _reading;

    // The server's authorization rules, consulted before each inbound call is dispatched; null on
    // clients and on servers without rules. Read-only once the server started.
    private readonly RpcGen.Security.CallAuthorization? _authorization;

    public MessageConnection(
        RpcLink link,
        RpcLimits limits,
        ILogger logger,
        IReadOnlyDictionary<ulong, IRpcDispatcher>? dispatchers,
        TimeSpan? defaultTimeout,
        Action<MessageConnection>? onClosed,
        RpcCompression compression = RpcCompression.None,
        int compressionThreshold = int.MaxValue,
        OutboundBudget? budget = null,
        ConnectionTimeouts? timeouts = null,
        RpcHandlerExecution handlerExecution = RpcHandlerExecution.ThreadPool,
        RpcGen.Security.CallAuthorization? authorization = null)
    {
        _handlerExecution = handlerExecution;
        _authorization = authorization is { IsEmpty: false } ? authorization : null;
        _timeouts = timeouts;
        _compression = compression;
        _compressionThreshold = compressionThreshold;
        _link = link;
        _handOffSpin = new AdaptiveSpin(link.HandOffSpin);
        _limits = limits;
        Logger = logger;
        _dispatchers = dispatchers;
        _defaultTimeout = defaultTimeout;
        _onClosed = onClosed;
        Id = Interlocked.Increment(ref s_nextId);
        _outbox = new Outbox(this, link, budget);
        Peer = link.RemoteAddress;
        _peerTags = RpcTelemetry.PeerTags(Peer);
    }

    public long Id { get; }

    public string Peer { get; }

    /// <summary>Who the peer is, as the link established it (TLS certificate, Unix socket credentials); null when the link cannot tell.</summary>
    public RpcGen.Security.RpcPeerIdentity? PeerIdentity => _link.PeerIdentity;

    public ILogger Logger { get; }

    /// <summary>Completes when the connection has closed, for whatever reason.</summary>
    public Task Completion => _closed.Task;

    /// <summary>Why the connection closed, or null while it is open.</summary>
    public RpcException? CloseReason => _closeReason;

    /// <summary>Inbound calls still running.</summary>
    public int InflightCalls => _lifecycle.InflightCalls;

    /// <summary>Outbound bytes this connection holds now (see <see cref="FrameBuffer.HeldBytes"/>).</summary>
    public long PendingOutboundBytes => _outbox.HeldBytes;

    public void Start()
    {
        RpcLog.ConnectionOpened(Logger, Id, Peer);
        _reading = StartReading();
    }

    private void SendControl(FrameKind kind, uint callId)
    {
        var frame = FrameBuffer.Rent();
        frame.WriteHeader(new FrameHeader(kind, 0, 0, callId, 0, 0, 0));
        var write = WriteFrameAsync(frame);
        if (!write.IsCompletedSuccessfully)
        {
            _ = IgnoreFailure(write);
        }
    }

    /// <summary>Closes the connection when one of its time limits passed (called by the server's watchdog).</summary>
    public void CheckTimeouts(long now)
    {
        if (_timeouts is null || _lifecycle.IsClosed)
        {
            return;
        }

        var busy = _outboundCalls.Any || _lifecycle.InflightCalls > 0;
        if (_timeouts.Expired(now, busy) is { } reason)
        {
            RpcLog.ConnectionTimedOut(Logger, Id, Peer, reason);
            _ = CloseAfterTellingPeerAsync(RpcStatusCode.Disconnected, reason);
        }
    }

    /// <summary>
    /// Sends an <see cref="FrameKind.Abort"/> with <paramref name="reason"/> (waiting briefly), then
    /// closes; lingering (see <see cref="RefusalLinger"/>) when <paramref name="refusal"/> is given,
    /// which only a connection that was never started may do (nothing else reads its input then).
    /// </summary>
    internal async Task CloseAfterTellingPeerAsync(RpcStatusCode code, string reason, RefusalLinger? refusal = null)
    {
        Debug.Assert(refusal is null || _reading is null, "Only a connection nobody reads may linger over its input.");
        try
        {
            await SendAbortAsync(code, reason).ConfigureAwait(false);
        }
        finally
        {
            await CloseAsync(new RpcException(RpcStatusCode.Disconnected, reason), refusal).ConfigureAwait(false);
        }
    }

}
