using System.Buffers;
using System.Collections.Concurrent;
using System.IO.Pipelines;
using System.Threading.Channels;
using Microsoft.Extensions.Logging;
using RpcGen.Links;

namespace RpcGen.Transport.Flow;

/// <summary>
/// Many flows multiplexed over one <see cref="RpcLink"/> (v23's <c>Conn</c>): open flows from
/// either end with <see cref="OpenFlow"/> and <see cref="AcceptFlowAsync"/>; each is flow
/// controlled on its own window, and a new flow borrows from a shared pool so its first bytes go
/// out in its Open frame, without waiting a round trip for credit.
/// </summary>
/// <remarks>
/// <para>Tables: <see cref="_flows"/> (open flows by id, both directions). Counters: the pool this
/// side may borrow from (<see cref="_peerShared"/>), what the peer borrowed from ours
/// (<see cref="_peerBorrowed"/>), and what is to be released (<see cref="_sharedToReturn"/>,
/// <see cref="_releaseFlows"/>).</para>
/// <para>Lock order: <see cref="Gate"/> (every field marked "gate", here and in <see cref="Flow"/>),
/// then the writer's queue lock. No user code and no awaiting under <see cref="Gate"/>; pipes are
/// completed outside it. User code never runs on the reader or writer loop: pipes resume their
/// readers on the thread pool, and the authorizer runs in the opening caller's context.</para>
/// <para>Ids: the side that dialed the link opens odd ids, the other even ids; each side's ids
/// only grow, so an id is never reused on a connection.</para>
/// </remarks>
public sealed partial class FlowConnection : IAsyncDisposable
{
    internal readonly object Gate = new();

    private readonly RpcLink _link;
    private readonly ILogger _logger;
    private readonly TimeProvider _time;
    private readonly FlowConnectionOptions _options;
    private readonly Channel<Flow> _accepted = Channel.CreateUnbounded<Flow>(new UnboundedChannelOptions { SingleWriter = true });
    private readonly TaskCompletionSource<FlowSetup> _peerSetup = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private readonly TaskCompletionSource _peerAck = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private readonly TaskCompletionSource _lameDuckAcked = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private readonly TaskCompletionSource _closed = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private readonly ConcurrentDictionary<long, (long Started, TaskCompletionSource<TimeSpan>? Waiter)> _pings = new();

    // Gate: open flows by id; a flow leaves when both final frames are through (see Flow).
    private readonly Dictionary<uint, Flow> _flows = [];

    // Gate: flows this side opened whose first frame has not been written yet; they get their id
    // from the writer loop when it writes that frame, so ids reach the peer in increasing order
    // however the flows' pumps race.
    private readonly HashSet<Flow> _unopened = [];

    // Gate: flows whose consumed bytes are due to be released to the peer.
    private readonly HashSet<Flow> _releaseFlows = [];

    // Gate: flows the peer opened that wait in _accepted for AcceptFlowAsync, ended ones included
    // (the queue keeps them until taken), so a peer that opens and resets flows while nobody accepts
    // cannot grow it past MaxFlows; an Open beyond that is reset.
    private int _awaitingAccept;

    // Gate: the next id this side opens (odd on the dialer, even on the acceptor).
    private uint _nextLocalId;

    // Gate: the highest id the peer opened; a lower or equal Open is a reused id.
    private uint _highestRemoteId;

    // Gate: bytes this side's new flows may still borrow (starts at the peer's announced pool).
    private long _peerShared;

    // Gate: bytes the peer's flows borrowed from this side's pool and this side has not returned.
    private long _peerBorrowed;

    // Gate: borrowed bytes consumed (or dropped) here, to be returned in the next release frame.
    private long _sharedToReturn;

    // Gate: a release frame is queued and will pick up everything pending when it is written.
    private bool _releaseQueued;

    // Gate: this side announced lame duck (opens nothing, refuses new flows).
    private bool _lameDuck;

    // Gate: the peer announced lame duck (this side opens nothing more).
    private bool _peerLameDuck;

    // Gate: completes when _flows becomes empty; null when nobody waits.
    private TaskCompletionSource? _drained;

    // Gate: set once, when the connection ends; never cleared.
    private FlowException? _closeReason;

    private long _lastReceivedTimestamp;
    private long _lastUsedTicks;
    private long _rttTicks = -1;
    private long _pingSequence;
    private ITimer? _health;
    private Task _writerLoop = Task.CompletedTask;
    private Task _readerLoop = Task.CompletedTask;

    private FlowConnection(RpcLink link, FlowConnectionOptions options, bool isDialer)
    {
        _link = link;
        _options = options;
        _logger = options.Logger;
        _time = options.TimeProvider;
        Limits = options.Limits;
        IsDialer = isDialer;
        _nextLocalId = isDialer ? 1u : 2u;
        Writer = new FlowWriter(this, link.Output);
        _lastReceivedTimestamp = _time.GetTimestamp();
        _lastUsedTicks = _time.GetUtcNow().UtcTicks;
    }

    /// <summary>This side's limits.</summary>
    public FlowLimits Limits { get; }

    internal FlowWriter Writer { get; }

    /// <summary>The blocks this connection's flow pipes are built of.</summary>
    internal FlowMemoryPool Memory { get; } = new();

    /// <summary>Whether this side dialed the underlying link.</summary>
    public bool IsDialer { get; }

    /// <summary>This end's link address.</summary>
    public string LocalAddress => _link.LocalAddress;

    /// <summary>The other end's link address.</summary>
    public string RemoteAddress => _link.RemoteAddress;

    /// <summary>Who the peer is: its address, announced name and what the link verified. Valid once the connection is open.</summary>
    public FlowPeer RemotePeer { get; private set; } = new(string.Empty, string.Empty, null);

    /// <summary>The last measured health-check round trip, or null before the first answer.</summary>
    public TimeSpan? Rtt => Interlocked.Read(ref _rttTicks) is var ticks and >= 0 ? TimeSpan.FromTicks(ticks) : null;

    /// <summary>When a flow was last opened, or bytes last went either way (on the connection's <see cref="TimeProvider"/>).</summary>
    public DateTimeOffset LastUsed => new(Interlocked.Read(ref _lastUsedTicks), TimeSpan.Zero);

    /// <summary>Flows open on this connection (both directions).</summary>
    public int FlowCount
    {
        get
        {
            lock (Gate)
            {
                return _flows.Count + _unopened.Count;
            }
        }
    }

    /// <summary>Flows the peer opened that wait for <see cref="AcceptFlowAsync"/> (ended ones included).</summary>
    internal int AwaitingAccept
    {
        get
        {
            lock (Gate)
            {
                return _awaitingAccept;
            }
        }
    }

    /// <summary>Writer loop: gives <paramref name="flow"/> the next id as its first frame is written.</summary>
    internal void AssignId(Flow flow)
    {
        lock (Gate)
        {
            flow.Id = _nextLocalId;
            _nextLocalId += 2;
            if (_unopened.Remove(flow))
            {
                _flows.Add(flow.Id, flow);
            }
        }
    }

    private bool IsTrackedLocked(Flow flow) =>
        _unopened.Contains(flow) || (_flows.TryGetValue(flow.Id, out var tracked) && ReferenceEquals(tracked, flow));

    /// <summary>Bytes this side's new flows may borrow right now from the peer's shared pool.</summary>
    public long SharedCreditAvailable
    {
        get
        {
            lock (Gate)
            {
                return _peerShared;
            }
        }
    }

    /// <summary>Frames written to the link so far (control and data).</summary>
    public long FramesWritten => Writer.FramesWritten;

    /// <summary>Why the connection ended, or null while it is open.</summary>
    public FlowException? CloseReason
    {
        get
        {
            lock (Gate)
            {
                return _closeReason;
            }
        }
    }

    /// <summary>Whether the connection ended.</summary>
    public bool IsClosed => CloseReason is not null;

    /// <summary>Whether this side or the peer announced lame duck: no new flows here.</summary>
    public bool IsLameDuck
    {
        get
        {
            lock (Gate)
            {
                return _lameDuck || _peerLameDuck;
            }
        }
    }

    /// <summary>Completes when the connection ended and its link is closed.</summary>
    public Task Completion => _closed.Task;

    // ─── Opening ──────────────────────────────────────────────────────────

    /// <summary>Opens a connection over a link this side dialed: exchanges setup frames, authorizes the peer, waits for its authorization.</summary>
    /// <exception cref="FlowException"><see cref="FlowErrorCode.NotTrusted"/> when either side refused the other; <see cref="FlowErrorCode.Network"/> when the link failed or the setup timed out.</exception>
    public static Task<FlowConnection> ConnectAsync(RpcLink link, FlowConnectionOptions? options = null, CancellationToken cancellationToken = default) =>
        StartAsync(link, options ?? new FlowConnectionOptions(), isDialer: true, cancellationToken);

    /// <summary>Opens a connection over a link this side accepted; see <see cref="ConnectAsync"/>.</summary>
    public static Task<FlowConnection> AcceptAsync(RpcLink link, FlowConnectionOptions? options = null, CancellationToken cancellationToken = default) =>
        StartAsync(link, options ?? new FlowConnectionOptions(), isDialer: false, cancellationToken);

    private static async Task<FlowConnection> StartAsync(RpcLink link, FlowConnectionOptions options, bool isDialer, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(link);
        options.Limits.Validate();
        var connection = new FlowConnection(link, options, isDialer);
        connection.Begin();
        connection.Writer.SendControl(FlowFrames.BuildSetup(new FlowSetup(
            FlowFrames.Version, options.Limits.MaxFrameBytes, options.Limits.WindowBytes, options.Limits.SharedPoolBytes, options.Limits.MaxFlows, options.Name)));
        using var timeout = new CancellationTokenSource(options.Limits.HandshakeTimeout, options.TimeProvider);
        using var linked = CancellationTokenSource.CreateLinkedTokenSource(timeout.Token, cancellationToken);
        try
        {
            await connection._peerSetup.Task.WaitAsync(linked.Token).ConfigureAwait(false);
            if (options.Authorizer is { } authorizer &&
                await authorizer.AuthorizeAsync(connection.RemotePeer, linked.Token).ConfigureAwait(false) is { } refusal)
            {
                FlowLog.Refused(connection._logger, link.RemoteAddress, refusal);
                var refused = new FlowException(FlowErrorCode.NotTrusted, $"{(options.Name.Length > 0 ? options.Name : "The other side")} does not trust '{connection.RemotePeer.Name}' at {link.RemoteAddress}: {refusal}");
                connection.Terminate(refused, sendTearDown: true);
                throw refused;
            }

            connection.Writer.SendControl(FlowFrames.Build(FlowFrameKind.SetupAck, 0, default));
            await connection._peerAck.Task.WaitAsync(linked.Token).ConfigureAwait(false);
            connection.StartHealthChecks();
            return connection;
        }
        catch (OperationCanceledException) when (timeout.IsCancellationRequested && !cancellationToken.IsCancellationRequested)
        {
            var error = new FlowException(FlowErrorCode.Network, $"The flow setup with {link.RemoteAddress} did not finish within {options.Limits.HandshakeTimeout}.");
            connection.Terminate(error, sendTearDown: true);
            throw error;
        }
        catch (Exception ex)
        {
            connection.Terminate(ex as FlowException ?? new FlowException(FlowErrorCode.Aborted, $"Opening the flow connection to {link.RemoteAddress} was canceled.", ex), sendTearDown: true);
            throw;
        }
    }

    private void Begin()
    {
        _writerLoop = Writer.RunAsync();
        _readerLoop = ReadLoopAsync();
    }

    private void StartHealthChecks()
    {
        if (Limits.ChannelTimeout == Timeout.InfiniteTimeSpan)
        {
            return;
        }

        var period = Limits.ChannelTimeout / 3;
        _health = _time.CreateTimer(static state => ((FlowConnection)state!).CheckHealth(), this, period, period);
    }

    // ─── Flows ────────────────────────────────────────────────────────────

    /// <summary>
    /// Opens a flow. No round trip: the peer learns of it from its first frame, which carries the
    /// first bytes written (or the end of this side's direction).
    /// </summary>
    /// <exception cref="FlowException"><see cref="FlowErrorCode.BadState"/> when the connection is closing or at <see cref="FlowLimits.MaxFlows"/>; the close reason when it ended.</exception>
    public Flow OpenFlow()
    {
        Flow flow;
        lock (Gate)
        {
            if (_closeReason is not null)
            {
                throw _closeReason;
            }

            if (_lameDuck || _peerLameDuck)
            {
                throw new FlowException(FlowErrorCode.BadState, $"The flow connection to {RemoteAddress} is closing (lame duck): it opens no new flows.");
            }

            var peer = _peerSetup.Task.Result;
            if (_flows.Count + _unopened.Count >= Math.Min(Limits.MaxFlows, peer.MaxFlows))
            {
                throw new FlowException(FlowErrorCode.BadState, $"The flow connection to {RemoteAddress} has {_flows.Count} flows open, its limit.");
            }

            if (_nextLocalId + (2L * (_unopened.Count + 1)) > uint.MaxValue)
            {
                throw new FlowException(FlowErrorCode.BadState, $"The flow connection to {RemoteAddress} used up its flow ids.");
            }

            flow = new Flow(this, 0, dialed: true, Mtu(peer), initialCredit: 0) { Granted = Limits.WindowBytes };
            _unopened.Add(flow);
        }

        Touch();
        flow.Start();
        return flow;
    }

    /// <summary>Waits for the next flow the peer opens.</summary>
    /// <exception cref="FlowException">The connection ended (its close reason).</exception>
    public async ValueTask<Flow> AcceptFlowAsync(CancellationToken cancellationToken = default)
    {
        try
        {
            var flow = await _accepted.Reader.ReadAsync(cancellationToken).ConfigureAwait(false);
            lock (Gate)
            {
                _awaitingAccept--;
            }

            return flow;
        }
        catch (ChannelClosedException)
        {
            throw CloseReason ?? new FlowException(FlowErrorCode.Aborted, "The connection is closed.");
        }
    }

    /// <summary>Completes when no flow is open on the connection (at once when none is).</summary>
    public Task WhenNoFlowsAsync()
    {
        lock (Gate)
        {
            if (_flows.Count + _unopened.Count == 0 || _closeReason is not null)
            {
                return Task.CompletedTask;
            }

            _drained ??= new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
            return _drained.Task;
        }
    }

    /// <summary>Sends a health check and returns the round trip.</summary>
    public async Task<TimeSpan> PingAsync(CancellationToken cancellationToken = default)
    {
        var waiter = new TaskCompletionSource<TimeSpan>(TaskCreationOptions.RunContinuationsAsynchronously);
        SendPing(waiter);
        using (cancellationToken.Register(() => waiter.TrySetCanceled(cancellationToken)))
        {
            return await waiter.Task.ConfigureAwait(false);
        }
    }

    private int Mtu(FlowSetup peer) => Math.Min(Limits.MtuBytes, peer.MaxFrameBytes);

    private void Touch() => Interlocked.Exchange(ref _lastUsedTicks, _time.GetUtcNow().UtcTicks);

    // ─── Credit ───────────────────────────────────────────────────────────

    /// <summary>Pump: waits until <paramref name="flow"/> may send, and takes up to <paramref name="want"/> bytes of credit.</summary>
    internal async ValueTask<(long Granted, bool Borrowed)> AcquireCreditAsync(Flow flow, long want)
    {
        while (true)
        {
            Task wait;
            lock (Gate)
            {
                if (_closeReason is not null)
                {
                    throw _closeReason;
                }

                if (flow.IsResetLocally)
                {
                    throw new FlowException(FlowErrorCode.Aborted, $"Flow {flow.Id} was reset.");
                }

                if (!flow.Borrowing && flow.Credit > 0)
                {
                    var granted = Math.Min(want, flow.Credit);
                    flow.Credit -= granted;
                    return (granted, false);
                }

                if (flow.Borrowing && _peerShared > 0)
                {
                    var granted = Math.Min(want, _peerShared);
                    _peerShared -= granted;
                    return (granted, true);
                }

                flow.CreditWaiter = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
                wait = flow.CreditWaiter.Task;
            }

            await wait.ConfigureAwait(false);
            Touch();
        }
    }

    /// <summary>The user consumed <paramref name="count"/> bytes of <paramref name="flow"/>: release them (batched).</summary>
    internal void OnConsumed(Flow flow, long count)
    {
        bool queue;
        lock (Gate)
        {
            queue = ConsumeLocked(flow, count);
        }

        if (queue)
        {
            Writer.SendRelease();
        }
    }

    /// <summary>The user completed the flow's input: what it did not read counts as consumed, later bytes are dropped.</summary>
    internal void OnInputCompleted(Flow flow)
    {
        bool queue;
        lock (Gate)
        {
            if (flow.InputDone)
            {
                return;
            }

            flow.InputDone = true;
            queue = ConsumeLocked(flow, flow.ReceivedOwn + flow.ReceivedBorrowed - flow.Consumed);
        }

        if (queue)
        {
            Writer.SendRelease();
        }
    }

    // Borrowed bytes (which arrive first) return to the pool at once; own-window bytes are released
    // once about half the window was consumed. Returns whether a release frame must be queued.
    private bool ConsumeLocked(Flow flow, long count)
    {
        if (count <= 0 || _closeReason is not null)
        {
            return false;
        }

        var borrowedBefore = Math.Min(flow.Consumed, flow.ReceivedBorrowed);
        flow.Consumed += count;
        var borrowed = Math.Min(flow.Consumed, flow.ReceivedBorrowed) - borrowedBefore;
        _sharedToReturn += borrowed;
        _peerBorrowed -= borrowed;
        flow.PendingRelease += count - borrowed;
        var due = borrowed > 0;
        if (!flow.RemoteFinal && flow.PendingRelease >= Limits.WindowBytes / 2 && _flows.ContainsKey(flow.Id))
        {
            _releaseFlows.Add(flow);
            due = true;
        }

        return QueueReleaseLocked(due);
    }

    private bool QueueReleaseLocked(bool due)
    {
        if (!due || _releaseQueued)
        {
            return false;
        }

        _releaseQueued = true;
        return true;
    }

    /// <summary>Writer loop: writes one or more release frames with everything pending now.</summary>
    internal int WritePendingRelease(PipeWriter output, ref long framesWritten)
    {
        List<(uint Id, uint Tokens)> entries = [];
        lock (Gate)
        {
            _releaseQueued = false;
            if (_sharedToReturn > 0)
            {
                entries.Add((0, (uint)_sharedToReturn));
                _sharedToReturn = 0;
            }

            foreach (var flow in _releaseFlows)
            {
                if (flow.PendingRelease > 0 && !flow.RemoteFinal)
                {
                    entries.Add((flow.Id, (uint)flow.PendingRelease));
                    flow.Granted += flow.PendingRelease;
                    flow.PendingRelease = 0;
                }
            }

            _releaseFlows.Clear();
        }

        var perFrame = Math.Max(1, _peerSetup.Task.Result.MaxFrameBytes / 8);
        var written = 0;
        for (var start = 0; start < entries.Count; start += perFrame)
        {
            var count = Math.Min(perFrame, entries.Count - start);
            var frameLength = FlowFrames.HeaderSize + (count * 8);
            var span = output.GetSpan(frameLength);
            FlowFrames.WriteHeader(span, new FlowFrameHeader(FlowFrameKind.Release, FlowFrameFlags.None, 0, count * 8));
            for (var i = 0; i < count; i++)
            {
                FlowFrames.WriteRelease(span[(FlowFrames.HeaderSize + (i * 8))..], entries[start + i].Id, entries[start + i].Tokens);
            }

            output.Advance(frameLength);
            framesWritten++;
            written += frameLength;
        }

        return written;
    }

    // ─── Ending flows ─────────────────────────────────────────────────────

    /// <summary>Resets <paramref name="flow"/> from this side, unless its final frame already went.</summary>
    internal void ResetFlow(Flow flow, string reason, FlowException localError)
    {
        bool queue;
        lock (Gate)
        {
            if (_closeReason is not null || flow.LocalFinal || !IsTrackedLocked(flow))
            {
                return;
            }

            flow.IsResetLocally = true;
            flow.LocalFinal = true;
            flow.InputDone = true;
            queue = ConsumeLocked(flow, flow.ReceivedOwn + flow.ReceivedBorrowed - flow.Consumed);
            flow.CreditWaiter?.TrySetResult();
        }

        flow.FailOutbound(localError);
        flow.EndInbound(localError);
        Writer.SendReset(flow, reason);
        if (queue)
        {
            Writer.SendRelease();
        }
    }

    /// <summary>Writer loop: a reset was dropped because the peer never heard of the flow; it retires now.</summary>
    internal void OnResetNotSent(Flow flow)
    {
        lock (Gate)
        {
            flow.RemoteFinal = true;
            RetireLocked(flow);
        }
    }

    /// <summary>Writer loop: the flow's End frame was written.</summary>
    internal void OnLocalEndWritten(Flow flow)
    {
        lock (Gate)
        {
            flow.LocalFinal = true;
            RetireLocked(flow);
        }
    }

    // Removes the flow once both final frames are through; returns what the peer borrowed for it.
    private void RetireLocked(Flow flow)
    {
        if (!flow.LocalFinal || !flow.RemoteFinal || !(_unopened.Remove(flow) || (IsTrackedLocked(flow) && _flows.Remove(flow.Id))))
        {
            return;
        }

        _releaseFlows.Remove(flow);
        var unconsumed = flow.UnconsumedBorrowed;
        flow.Consumed += unconsumed;
        _sharedToReturn += unconsumed;
        _peerBorrowed -= unconsumed;
        if (QueueReleaseLocked(unconsumed > 0 || _sharedToReturn > 0))
        {
            Writer.SendRelease();
        }

        if (_flows.Count + _unopened.Count == 0 && _drained is { } drained)
        {
            _drained = null;
            drained.TrySetResult();
        }
    }

    // ─── Health ───────────────────────────────────────────────────────────

    private void CheckHealth()
    {
        var silent = _time.GetElapsedTime(Interlocked.Read(ref _lastReceivedTimestamp));
        if (silent >= Limits.ChannelTimeout)
        {
            FlowLog.PeerSilent(_logger, RemoteAddress, Limits.ChannelTimeout);
            Terminate(new FlowException(FlowErrorCode.Network, $"The flow connection to {RemoteAddress} is dead: no frame arrived for {Limits.ChannelTimeout} (the channel timeout)."), sendTearDown: true);
            return;
        }

        if (_pings.Count > 16)
        {
            // A peer that never answers must not grow this table; its silence is caught above.
            foreach (var stale in _pings.Where(p => p.Value.Waiter is null))
            {
                _pings.TryRemove(stale.Key, out _);
            }
        }

        SendPing(waiter: null);
    }

    private void SendPing(TaskCompletionSource<TimeSpan>? waiter)
    {
        var id = Interlocked.Increment(ref _pingSequence);
        _pings[id] = (_time.GetTimestamp(), waiter);
        Span<byte> payload = stackalloc byte[8];
        System.Buffers.Binary.BinaryPrimitives.WriteInt64LittleEndian(payload, id);
        Writer.SendControl(FlowFrames.Build(FlowFrameKind.Ping, 0, payload));
    }

    // ─── Closing ──────────────────────────────────────────────────────────

    /// <summary>
    /// Closes gracefully (lame duck): announces it, opens and accepts no new flows, lets open flows
    /// finish for up to <see cref="FlowLimits.LameDuckTimeout"/>, then tears the connection down.
    /// </summary>
    public async Task CloseAsync(CancellationToken cancellationToken = default)
    {
        int open;
        lock (Gate)
        {
            if (_closeReason is not null || _lameDuck)
            {
                open = -1;
            }
            else
            {
                _lameDuck = true;
                open = _flows.Count + _unopened.Count;
            }
        }

        if (open >= 0)
        {
            FlowLog.LameDuck(_logger, RemoteAddress, open);
            Writer.SendControl(FlowFrames.Build(FlowFrameKind.LameDuck, 0, default));
            try
            {
                await Task.WhenAll(_lameDuckAcked.Task, WhenNoFlowsAsync()).WaitAsync(Limits.LameDuckTimeout, _time, cancellationToken).ConfigureAwait(false);
            }
            catch (TimeoutException)
            {
                // Flows still open after the lame-duck time are cut by the teardown below.
            }
            catch (FlowException)
            {
                // The connection ended meanwhile.
            }

            Terminate(new FlowException(FlowErrorCode.Aborted, $"The flow connection to {RemoteAddress} was closed."), sendTearDown: true);
        }

        await Completion.WaitAsync(cancellationToken).ConfigureAwait(false);
    }

    /// <summary>Closes at once: every flow fails with <see cref="FlowErrorCode.Aborted"/>.</summary>
    public async ValueTask DisposeAsync()
    {
        Terminate(new FlowException(FlowErrorCode.Aborted, $"The flow connection to {RemoteAddress} was closed."), sendTearDown: true);
        await Completion.ConfigureAwait(false);
    }

    /// <summary>Ends the connection once: fails every flow and waiter with <paramref name="reason"/>, sends a teardown if asked, closes the link.</summary>
    internal void Terminate(FlowException reason, bool sendTearDown)
    {
        Flow[] flows;
        lock (Gate)
        {
            if (_closeReason is not null)
            {
                return;
            }

            _closeReason = reason;
            flows = [.. _flows.Values, .. _unopened];
            _flows.Clear();
            _unopened.Clear();
            foreach (var flow in flows)
            {
                flow.CreditWaiter?.TrySetResult();
            }

            _drained?.TrySetResult();
            _drained = null;
        }

        FlowLog.Closed(_logger, RemoteAddress, reason.Code, reason.Message);
        _health?.Dispose();
        _peerSetup.TrySetException(reason);
        _peerAck.TrySetException(reason);
        _lameDuckAcked.TrySetException(reason);
        _ = _lameDuckAcked.Task.Exception;
        _ = _peerSetup.Task.Exception;
        _ = _peerAck.Task.Exception;
        foreach (var ping in _pings.Values)
        {
            ping.Waiter?.TrySetException(reason);
        }

        foreach (var flow in flows)
        {
            flow.FailOutbound(reason);
            flow.EndInbound(reason);
        }

        _accepted.Writer.TryComplete();
        Writer.Complete(sendTearDown ? FlowFrames.BuildTearDown(reason.Code, reason.Message) : null);
        _ = CloseLinkAsync();
    }

    // The teardown frame gets a short time to leave; a peer that does not read cannot hold the link open.
    private async Task CloseLinkAsync()
    {
        try
        {
            await _writerLoop.WaitAsync(TimeSpan.FromSeconds(2)).ConfigureAwait(false);
            await _link.DisposeAsync().AsTask().WaitAsync(TimeSpan.FromSeconds(2)).ConfigureAwait(false);
        }
        catch (Exception)
        {
            _link.Abort();
        }

        _link.Abort();
        try
        {
            await _readerLoop.WaitAsync(TimeSpan.FromSeconds(2)).ConfigureAwait(false);
        }
        catch (TimeoutException)
        {
            // The link's input did not notice the close; nothing more to do.
        }

        _closed.TrySetResult();
    }
}
