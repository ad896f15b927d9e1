using System.Buffers;
using System.IO.Pipelines;
using System.Threading.Channels;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using RpcGen.Limits;
using RpcGen.Links;

namespace RpcGen.Capnp;

/// <summary>
/// One Cap'n Proto RPC connection (the two-party protocol of <c>rpc-twoparty.capnp</c>, level 1):
/// bootstrap, calls, returns, promise pipelining, capabilities passed both ways, promise resolution
/// with embargoes, reference counting, cancellation. Wire-compatible with the C++ implementation
/// (<c>capnp::TwoPartyVatNetwork</c>, <c>EzRpcClient</c>/<c>EzRpcServer</c>).
/// </summary>
/// <remarks>
/// <para>
/// State is four tables, as in rpc.capnp: questions (calls we sent), answers (calls the peer sent),
/// imports (the peer's capabilities we hold) and exports (ours the peer holds), plus our embargoes;
/// each table, with the handlers of the messages that change it, is in its own file
/// (<c>CapnpConnection.Questions.cs</c>, <c>.Answers.cs</c>, <c>.Imports.cs</c>, <c>.Exports.cs</c>,
/// <c>.Embargoes.cs</c>; the dispatch switch in <c>.Dispatch.cs</c>).
/// One lock guards them; every message kind has one <c>Handle{Kind}</c> method. Nothing outside the
/// connection is called while the lock is held: releases of hooks and deliveries of calls are
/// deferred until it is let go.
/// </para>
/// <para>
/// The peer is treated as hostile: an unknown question, answer, import or export id, a double
/// Finish or Release, a malformed message or a limit breach aborts the connection with an
/// <c>abort</c> message that says why; every call in flight then fails with
/// <see cref="RpcStatusCode.Disconnected"/>, and other connections are unaffected.
/// </para>
/// <para>
/// What the peer can make this side hold is bounded (<see cref="CapnpConnectionOptions.Limits"/>):
/// outbound messages are counted from the moment they are queued until the link has taken them, and
/// while the peer does not take them the reader stops reading what it sends. On a server, a watchdog
/// also closes connections that break a time limit. Every exception that escapes the reader or the
/// writer closes the connection with a log line; neither loop can end while the other goes on alone.
/// </para>
/// <para>
/// User code never runs on the reader by default: calls the peer makes on objects served here start
/// on the thread pool through <see cref="HandlerQueue"/>, in order per object, and cancellations of
/// them run there too. <see cref="CapnpConnectionOptions.HandlerExecution"/> set to
/// <see cref="RpcHandlerExecution.Inline"/> runs them on the reader instead.
/// </para>
/// <para>
/// Lock order: <c>_gate</c> is the only lock. The loops are woken (pending read and flush cancelled,
/// the reader's room signalled) after it is let go, since the link may run their continuations inline.
/// </para>
/// </remarks>
public sealed partial class CapnpConnection : IAsyncDisposable, IWatchedConnection
{
    private readonly object _gate = new();
    private readonly IDuplexPipe _pipe;
    private readonly IAsyncDisposable? _ownedLink;
    private readonly CapnpConnectionOptions _options;
    private readonly ILogger _logger;
    private readonly CapnpFrameReader _frames;
    private readonly Channel<(byte[] Buffer, int Length)> _outbound = Channel.CreateUnbounded<(byte[], int)>(new UnboundedChannelOptions { SingleReader = true });
    private readonly TaskCompletionSource _closed = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private readonly CapabilityHook? _bootstrap;
    private Task _reading = Task.CompletedTask;
    private Task _writing = Task.CompletedTask;
    private Task _finished = Task.CompletedTask;

    // ===== Outbound bytes held, and the reader's backpressure =====

    // The memory queued outbound messages hold (the rented array's length), from SendLocked until the
    // write loop's flush that hands them to the link has completed: bytes parked in the link behind
    // a peer that does not read still count. The same bytes are added to _budget (the server's,
    // shared by its connections, or this connection's own). After each batch of input the reader
    // stops while _budget.ShouldPause says so, and waits on _room, which the write loop completes
    // whenever it gives bytes back and Disconnect completes so the reader sees the end.
    //
    // Only a server's connections pause their reader. On a server, what is queued is what the peer's
    // requests produced, so not reading them bounds it. A client's queue is what its own application
    // sends; pausing its reader would not bound that, and would deadlock against a server that pauses
    // too (each waits for the other to read). A client's bytes are still counted.
    private readonly OutboundBudget _budget;
    private readonly bool _pausesReader;
    private long _pendingBytes;
    private readonly RoomSignal _room = new();
    private readonly TaskCompletionSource _firstPause = new(TaskCreationOptions.RunContinuationsAsynchronously);

    // Server connections only: the time limits the server's watchdog checks. Null on clients.
    private readonly ConnectionTimeouts? _timeouts;

    // The peer's address, for log lines and the server's per-address count.
    private readonly string _remoteAddress;

    // Bytes the reader has taken from the link so far (consumed, or examined and kept for the next
    // read). Written by the reader only; a test reads it to know the reader has seen what it sent.
    private long _bytesSeen;
    private long _bytesConsumed;

    // ===== The four tables (and embargoes); all guarded by _gate =====

    // Each table lives in the file named for it, with its invariants at the top: _questions in
    // CapnpConnection.Questions.cs, _answers in .Answers.cs, _imports in .Imports.cs, _exports in
    // .Exports.cs, _embargoes in .Embargoes.cs. The message-kind switch is in .Dispatch.cs.

    // ===== Where the peer's calls on our objects run =====

    // Starts the handlers of calls the reader delivers to objects served here, on the thread pool, in
    // order per object (see HandlerQueue). Null in RpcHandlerExecution.Inline mode: they run on the reader.
    private readonly HandlerQueue? _handlers;

    // The authorization rules the peer's calls on our objects are checked against; null when the
    // options have none. Set in the constructor, read-only after.
    private readonly CapnpAuthorization? _authorization;

    // Set once, when the connection ends; every later operation fails with it.
    private RpcException? _disconnected;

    // The builder of the connection's last own message, reset for the next (see NewMessageLocked);
    // null while one is being built, and once the connection has ended. Guarded by _gate.
    private CapnpMessageBuilder? _spareBuilder;

    // Work to run when the outermost holder of _gate lets go (hook releases, deliveries).
    private int _lockDepth;
    private List<Action>? _afterUnlock;

    private CapnpConnection(IDuplexPipe pipe, CapnpConnectionOptions options, IAsyncDisposable? ownedLink, OutboundBudget? budget, ConnectionTimeouts? timeouts)
    {
        _pipe = pipe;
        _options = options;
        _ownedLink = ownedLink;
        _logger = options.Logger ?? NullLogger.Instance;
        options.ReaderOptions.Validate();
        options.Limits.Validate();
        _frames = new CapnpFrameReader(options.ReaderOptions, IsTransient);
        _budget = budget ?? OutboundBudget.Unshared(options.Limits);
        _pausesReader = budget is not null;
        _timeouts = timeouts;
        _remoteAddress = (pipe as RpcLink)?.RemoteAddress ?? "(unknown)";
        _handlers = options.HandlerExecution switch
        {
            RpcHandlerExecution.ThreadPool => new HandlerQueue(_logger),
            RpcHandlerExecution.Inline => null,
            _ => throw new ArgumentOutOfRangeException(nameof(options), options.HandlerExecution, "Unknown handler execution mode."),
        };
        _authorization = CapnpAuthorization.Create(options, pipe as RpcLink, _remoteAddress, _logger);
        _bootstrap = options.Bootstrap?.Hook.AddRef();
        StreamWindow = new CapnpStreamWindow(options.MaxStreamBytesInFlight);
    }

    /// <summary>
    /// The bytes of stream calls (<c>-&gt; stream</c> methods) this side has sent on the connection and the
    /// peer has not yet answered, over all its streams; at most <see cref="CapnpConnectionOptions.MaxStreamBytesInFlight"/>
    /// plus one call, and per stream at most <see cref="CapnpConnectionOptions.StreamWindowBytes"/> plus one call.
    /// </summary>
    public long StreamBytesInFlight => StreamWindow.InFlight;

    /// <summary>The connection's share of every outgoing stream's window (see <see cref="CapnpStreamSender"/>).</summary>
    internal CapnpStreamWindow StreamWindow { get; }

    /// <summary>The options the connection was started with.</summary>
    internal CapnpConnectionOptions Options => _options;

    /// <summary>Completes when the connection has ended, for whatever reason (see <see cref="DisconnectReason"/>).</summary>
    public Task Completion => _closed.Task;

    /// <summary>
    /// The outbound bytes this connection holds now: messages queued for the peer, counted by the
    /// memory they occupy, until the link has taken them. On a <see cref="CapnpServer"/>'s connection
    /// this stays near <see cref="RpcLimits.MaxPendingBytes"/> while the peer does not read: the
    /// connection stops reading the peer's requests. A client's connection only counts (what it holds
    /// is what its own application sends).
    /// </summary>
    public long PendingOutboundBytes => Volatile.Read(ref _pendingBytes);

    /// <summary>The peer's address (<c>tcp://HOST:PORT</c>, <c>unix:PATH</c>, ...), as the link reports it.</summary>
    public string RemoteAddress => _remoteAddress;

    /// <summary>Where this connection's log lines go.</summary>
    internal ILogger Logger => _logger;

    /// <summary>Completes when the connection has ended and its link is closed (after <see cref="Completion"/>).</summary>
    internal Task Closed => _finished;

    /// <summary>Test hook: the bytes the reader has taken from the link (consumed, or seen and kept for the next read).</summary>
    internal long BytesSeen => Volatile.Read(ref _bytesSeen);

    /// <summary>Test hook: completes the first time the reader stops because the peer does not take what it is sent.</summary>
    internal Task FirstReaderPause => _firstPause.Task;

    /// <summary>Why the connection ended; null while it is open.</summary>
    public RpcException? DisconnectReason
    {
        get
        {
            lock (_gate)
            {
                return _disconnected;
            }
        }
    }

    /// <summary>Runs the protocol over <paramref name="link"/> (for example one end of a TCP or Unix socket link).</summary>
    /// <param name="link">The byte stream. Disposed with the connection if it is <see cref="IAsyncDisposable"/> and <paramref name="ownsLink"/>.</param>
    /// <param name="options">Settings; the bootstrap capability among them.</param>
    /// <param name="ownsLink">Whether disposing the connection disposes the link.</param>
    public static CapnpConnection Start(IDuplexPipe link, CapnpConnectionOptions? options = null, bool ownsLink = true)
    {
        ArgumentNullException.ThrowIfNull(link);
        var connection = new CapnpConnection(link, options ?? new CapnpConnectionOptions(), ownsLink ? link as IAsyncDisposable : null, budget: null, timeouts: null);
        connection.Run();
        return connection;
    }

    /// <summary>A server's connection over <paramref name="link"/> (owned), not yet running: the server registers it, then calls <see cref="Run"/>.</summary>
    internal static CapnpConnection ForServer(RpcLink link, CapnpConnectionOptions options, OutboundBudget budget, ConnectionTimeouts timeouts) =>
        new(link, options, link, budget, timeouts);

    /// <summary>Starts the loops.</summary>
    internal void Run()
    {
        _writing = WriteLoopAsync();
        _reading = ReadLoopAsync();
        _finished = FinishAsync();
    }

    /// <summary>Connects to <c>tcp://HOST:PORT</c>, <c>unix:PATH</c> or (with <see cref="CapnpConnectionOptions.Tls"/>) <c>tls://HOST:PORT</c> and <c>tls+unix:PATH</c>, and runs the protocol over it.</summary>
    public static async Task<CapnpConnection> ConnectAsync(string address, CapnpConnectionOptions? options = null, CancellationToken cancellationToken = default)
    {
        var link = await RpcLinks.ConnectAsync(address, options?.Limits, options?.Tls, cancellationToken).ConfigureAwait(false);
        return Start(link, options);
    }

    /// <summary>
    /// The peer's bootstrap capability. Returned at once, as a promise: calls made on it are
    /// pipelined on the bootstrap question and need no extra round trip.
    /// </summary>
    public Capability Bootstrap()
    {
        using (Lock())
        {
            if (_disconnected is { } error)
            {
                return new Capability(new BrokenHook(error));
            }

            var question = new Question(this);
            question.Id = _questions.Add(question);
            var builder = NewMessageLocked(RpcSchema.Message.Bootstrap, RpcSchema.Bootstrap.DataWords, RpcSchema.Bootstrap.Pointers, out var bootstrap);
            bootstrap.WriteUInt32(RpcSchema.Bootstrap.QuestionId, question.Id);
            SendLocked(builder);

            // Nobody takes the bootstrap response itself: it only resolves the pipelined capability.
            var capability = GetQuestionPipelinedHookLocked(question, PipelinePath.Root);
            question.MarkDropped();
            return new Capability(capability);
        }
    }

    /// <summary>Test hook: told the kind of every message sent (true) and received (false), in order.</summary>
    internal Action<bool, ushort>? Trace { get; set; }

    /// <summary>The current sizes of the connection's tables.</summary>
    public CapnpConnectionStats GetStats()
    {
        lock (_gate)
        {
            return new CapnpConnectionStats(_questions.Count, _answers.Count, _imports.Count, _exports.Count, _embargoes.Count);
        }
    }

    /// <summary>Ends the connection with an <c>abort</c> message carrying <paramref name="reason"/>.</summary>
    public void Abort(string reason) => Disconnect(RpcErrors.Disconnected(reason), sendAbort: true);

    /// <summary>Closes the connection: calls in flight fail with <see cref="RpcStatusCode.Disconnected"/>, queued messages are flushed, the link is closed.</summary>
    public async ValueTask DisposeAsync()
    {
        Disconnect(RpcErrors.Disconnected("The connection was closed."), sendAbort: false);
        await _finished.ConfigureAwait(false);
    }

    /// <summary>Closes the connection if one of its time limits passed at <paramref name="now"/> (called by the server's watchdog).</summary>
    void IWatchedConnection.CheckTimeouts(long now)
    {
        if (_timeouts is null)
        {
            return;
        }

        bool busy;
        lock (_gate)
        {
            if (_disconnected is not null)
            {
                return;
            }

            busy = HasWorkInFlightLocked();
        }

        if (_timeouts.Expired(now, busy) is { } reason)
        {
            CapnpLog.TimedOut(_logger, _remoteAddress, reason);
            Disconnect(RpcErrors.Disconnected("The connection was closed: " + reason), sendAbort: true, abortReason: reason);
        }
    }

    /// <summary>Whether a call is in flight either way: one of ours awaits its Return, or one of the peer's is still running here.</summary>
    private bool HasWorkInFlightLocked()
    {
        foreach (var answer in _answers.Values)
        {
            if (!answer.Completed)
            {
                return true;
            }
        }

        foreach (var question in _questions.Values())
        {
            if (!question.ReturnReceived)
            {
                return true;
            }
        }

        return false;
    }

    /// <summary>How long closing the link may wait for the peer to take what is left before the link is cut.</summary>
    private static readonly TimeSpan LinkCloseGrace = TimeSpan.FromSeconds(5);

    /// <summary>
    /// Once both directions have stopped, closes the link (which ends the peer's stream too). A peer
    /// that does not read would keep the link's last bytes, and the link, forever: after a grace
    /// period (real time: it is a back-off, not a limit) the link is aborted.
    /// </summary>
    private async Task FinishAsync()
    {
        await Task.WhenAll(_writing, _reading).ConfigureAwait(false);
        if (_ownedLink is null)
        {
            return;
        }

        var closing = _ownedLink.DisposeAsync().AsTask();
        try
        {
            await closing.WaitAsync(LinkCloseGrace).ConfigureAwait(false);
        }
        catch (TimeoutException) when (_ownedLink is RpcLink link)
        {
            link.Abort();
            await IgnoreFailureAsync(closing).ConfigureAwait(false);
        }
        catch (Exception error)
        {
            // The link failed while closing: it is closed all the same.
            CapnpLog.Closed(_logger, "Closing the link failed: " + error.Message);
        }
    }

    private static async Task IgnoreFailureAsync(Task task)
    {
        try
        {
            await task.ConfigureAwait(false);
        }
        catch (Exception)
        {
            // Aborted: nothing more to do.
        }
    }

    // ===== Locking =====

    /// <summary>Takes the connection lock; work queued with <see cref="AfterUnlock"/> runs when the outermost scope ends.</summary>
    private LockScope Lock()
    {
        Monitor.Enter(_gate);
        _lockDepth++;
        return new LockScope(this);
    }

    private void Unlock()
    {
        List<Action>? actions = null;
        if (--_lockDepth == 0)
        {
            actions = _afterUnlock;
            _afterUnlock = null;
        }

        Monitor.Exit(_gate);
        if (actions is null)
        {
            return;
        }

        foreach (var action in actions)
        {
            try
            {
                action();
            }
            catch (Exception error)
            {
                CapnpLog.DeferredFailed(_logger, error);
            }
        }
    }

    private void AfterUnlock(Action action) => (_afterUnlock ??= []).Add(action);

    private void ReleaseAfterUnlock(CapabilityHook? hook)
    {
        if (hook is not null)
        {
            AfterUnlock(hook.Release);
        }
    }

    private readonly struct LockScope(CapnpConnection connection) : IDisposable
    {
        public void Dispose() => connection.Unlock();
    }

    // ===== Sending and receiving bytes =====

    /// <summary>
    /// A message of the connection's own (under the lock), in the builder the last one left behind:
    /// one per call (the Finish of every question, the Return of every failed answer) would otherwise
    /// be a builder per message. <see cref="SendLocked"/> or <see cref="RecycleLocked"/> gives it back.
    /// </summary>
    private CapnpMessageBuilder NewMessageLocked(ushort which, ushort dataWords, ushort pointers, out StructBuilder body)
    {
        var builder = _spareBuilder ?? new CapnpMessageBuilder(firstSegmentWords: 32) { ConnectionOwned = true };
        _spareBuilder = null;
        return InitMessage(builder, which, dataWords, pointers, out body);
    }

    /// <summary>Done with <paramref name="builder"/> (under the lock): kept for the next <see cref="NewMessageLocked"/> if it is the connection's own, else disposed.</summary>
    private void RecycleLocked(CapnpMessageBuilder builder)
    {
        if (!builder.ConnectionOwned || _spareBuilder is not null || _disconnected is not null)
        {
            builder.Dispose();
            return;
        }

        // Resetting releases the capability table's references, and a release may send a message of
        // its own (and leave a spare): then this one is not needed.
        builder.Reset();
        if (_spareBuilder is null)
        {
            _spareBuilder = builder;
        }
        else
        {
            builder.Dispose();
        }
    }

    private static CapnpMessageBuilder NewMessage(ushort which, ushort dataWords, ushort pointers, out StructBuilder body) =>
        InitMessage(new CapnpMessageBuilder(firstSegmentWords: 32), which, dataWords, pointers, out body);

    private static CapnpMessageBuilder InitMessage(CapnpMessageBuilder builder, ushort which, ushort dataWords, ushort pointers, out StructBuilder body)
    {
        var message = builder.InitRoot(RpcSchema.Message.DataWords, RpcSchema.Message.Pointers);
        message.WriteUInt16(RpcSchema.Message.Which, which);
        body = message.InitStruct(RpcSchema.Message.Body, dataWords, pointers);
        return builder;
    }

    /// <summary>A framed <c>abort</c> message carrying <paramref name="reason"/>, for a peer that gets nothing else (a refused connection).</summary>
    internal static byte[] AbortMessage(string reason)
    {
        using var builder = NewMessage(RpcSchema.Message.Abort, RpcSchema.Exception.DataWords, RpcSchema.Exception.Pointers, out var exception);
        RpcErrors.Write(exception, new RpcException(RpcStatusCode.Overloaded, reason));
        return CapnpFraming.ToArray(builder);
    }

    /// <summary>Frames <paramref name="builder"/> into the outbound queue, in the order sends happen under the lock.</summary>
    private void SendLocked(CapnpMessageBuilder builder, bool dispose = true)
    {
        try
        {
            if (_disconnected is not null)
            {
                return;
            }

            Trace?.Invoke(true, builder.Root.AsReader().GetStruct().ReadUInt16(RpcSchema.Message.Which));
            var length = checked((int)CapnpFraming.GetFramedLength(builder));
            var buffer = ArrayPool<byte>.Shared.Rent(length);
            CapnpFraming.Write(builder, buffer.AsSpan(0, length));
            Hold(buffer.Length);
            if (!_outbound.Writer.TryWrite((buffer, length)))
            {
                Unhold(buffer.Length);
                ArrayPool<byte>.Shared.Return(buffer);
            }
        }
        finally
        {
            if (dispose)
            {
                RecycleLocked(builder);
            }
        }
    }

    /// <summary>Counts bytes queued for the peer against this connection and the budget.</summary>
    private void Hold(long bytes)
    {
        _budget.Add(bytes);
        Interlocked.Add(ref _pendingBytes, bytes);
    }

    /// <summary>Stops counting bytes the link has taken (or that were dropped), and wakes the reader if it waits for room.</summary>
    private void Unhold(long bytes)
    {
        if (bytes == 0)
        {
            return;
        }

        _budget.Add(-bytes);
        Interlocked.Add(ref _pendingBytes, -bytes);
        _room.Notify();
    }

    private async Task WriteLoopAsync()
    {
        var output = _pipe.Output;
        var reader = _outbound.Reader;
        var moved = 0L;
        try
        {
            while (await reader.WaitToReadAsync().ConfigureAwait(false))
            {
                while (reader.TryRead(out var frame))
                {
                    moved += frame.Buffer.Length;
                    try
                    {
                        output.Write(frame.Buffer.AsSpan(0, frame.Length));
                    }
                    finally
                    {
                        ArrayPool<byte>.Shared.Return(frame.Buffer);
                    }
                }

                // The bytes stay counted until the link has taken them: behind a peer that does not
                // read, this flush waits, the count stays high, and the reader stops reading.
                var flushed = await output.FlushAsync().ConfigureAwait(false);
                Unhold(moved);
                moved = 0;
                if (flushed.IsCompleted || (flushed.IsCanceled && IsDisconnected))
                {
                    // The link is gone, or Disconnect woke us from a flush the peer may never let
                    // finish: what is still queued is handed over below, without waiting.
                    break;
                }
            }
        }
        catch (Exception error)
        {
            Unhold(moved);
            moved = 0;
            if (error is not (RpcException or IOException or InvalidOperationException or OperationCanceledException))
            {
                CapnpLog.ConnectionFailed(_logger, _remoteAddress, error);
            }

            Disconnect(RpcErrors.Disconnected("Writing to the peer failed: " + error.Message), sendAbort: false);
        }
        finally
        {
            // Messages queued last (an abort, answers sent as the connection ended) go into the link
            // without a flush: closing the link sends them if the peer reads, and is cut short if not.
            while (reader.TryRead(out var frame))
            {
                try
                {
                    output.Write(frame.Buffer.AsSpan(0, frame.Length));
                }
                catch (Exception)
                {
                    // The link failed: the rest is dropped with it.
                }

                ArrayPool<byte>.Shared.Return(frame.Buffer);
                Unhold(frame.Buffer.Length);
            }

            try
            {
                await output.CompleteAsync().ConfigureAwait(false);
            }
            catch (Exception)
            {
                // Completing a failed link's writer: nothing more to tell it.
            }
        }
    }

    private async Task ReadLoopAsync()
    {
        // Start on the thread pool: the first read may complete synchronously.
        await Task.Yield();
        var input = _pipe.Input;
        try
        {
            while (true)
            {
                var result = await input.ReadAsync().ConfigureAwait(false);
                var buffer = result.Buffer;
                bool framesCompleted;
                try
                {
                    framesCompleted = ReceiveFrames(ref buffer);
                }
                finally
                {
                    input.AdvanceTo(buffer.Start, buffer.End);
                }

                // The frame reader copies a message's body out of the pipe as it arrives: what is
                // partly received is what it consumed plus what is left in the pipe.
                _bytesConsumed += result.Buffer.Length - buffer.Length;
                _timeouts?.OnRead(framesCompleted, _frames.ConsumedFrameBytes + buffer.Length, _frames.DeclaredFrameBytes);
                Volatile.Write(ref _bytesSeen, _bytesConsumed + buffer.Length);
                if (IsDisconnected)
                {
                    break;
                }

                if (result.IsCompleted || result.IsCanceled)
                {
                    Disconnect(
                        _frames.IsInsideFrame || !buffer.IsEmpty
                            ? RpcErrors.Disconnected("The peer closed the connection in the middle of a message.")
                            : RpcErrors.Disconnected("The peer closed the connection."),
                        sendAbort: false);
                    break;
                }

                // Backpressure: while the peer does not take what we owe it, stop reading what it
                // sends, so it cannot make us queue more answers (see OutboundBudget).
                if (_pausesReader && _budget.ShouldPause(Volatile.Read(ref _pendingBytes)))
                {
                    await WaitForReaderRoomAsync().ConfigureAwait(false);
                }
            }
        }
        catch (Exception error)
        {
            // A link that failed, or a bug: either way the connection must not stay half-open with
            // nobody reading it. Close it and say why.
            if (error is not (RpcException or IOException or InvalidOperationException or OperationCanceledException))
            {
                CapnpLog.ConnectionFailed(_logger, _remoteAddress, error);
            }

            Disconnect(RpcErrors.Disconnected("Reading from the peer failed: " + error.Message), sendAbort: false);
        }
        finally
        {
            try
            {
                await input.CompleteAsync().ConfigureAwait(false);
            }
            catch (Exception)
            {
                // Completing a failed link's reader: nothing more to tell it.
            }
        }
    }

    /// <summary>
    /// Handles every whole message at the front of <paramref name="buffer"/>, in order, on the calling
    /// thread (the reader; or a fuzz harness driving an unstarted connection, see
    /// <see cref="CreateUnstarted"/>), and leaves <paramref name="buffer"/> at the first byte not yet
    /// taken. Whatever a message makes a handler throw aborts the connection. Returns whether at
    /// least one message was completed.
    /// </summary>
    internal bool ReceiveFrames(ref ReadOnlySequence<byte> buffer)
    {
        var framesCompleted = false;
        try
        {
            while (!IsDisconnected && _frames.TryRead(ref buffer, out var message))
            {
                framesCompleted = true;
                HandleMessage(message);
            }
        }
        catch (Exception error)
        {
            // Whatever a message makes a handler throw is the peer's fault: a malformed
            // message, a bad id, a broken rule. Abort this connection and say why.
            var reason = error is RpcException ? error.Message : $"Malformed message ({error.GetType().Name}: {error.Message})";
            CapnpLog.Aborted(_logger, reason);
            Disconnect(new RpcException(RpcStatusCode.Disconnected, "The connection was aborted: " + reason, error), sendAbort: true, abortReason: reason);
        }

        return framesCompleted;
    }

    /// <summary>
    /// Whether the reader may hand <paramref name="message"/> out in its reused buffer: a Finish or a
    /// Release, whose handlers read a few numbers and keep nothing of the message. A message that
    /// cannot be read says no here, and fails in its handler as it would have.
    /// </summary>
    private static bool IsTransient(CapnpMessage message)
    {
        try
        {
            return message.GetRoot().ReadUInt16(RpcSchema.Message.Which) is RpcSchema.Message.Finish or RpcSchema.Message.Release;
        }
        catch (Exception)
        {
            // Unreadable: copied out, and its handler reports what is wrong with it.
            return false;
        }
    }

    /// <summary>
    /// Test seam (the <c>capnp-rpc</c> fuzz harness): a connection whose reader and writer loops never
    /// start. The caller feeds it with <see cref="ReceiveFrames"/> on its own thread, so one input is
    /// handled deterministically; what it sends stays queued; <see cref="Abort"/> ends it.
    /// </summary>
    internal static CapnpConnection CreateUnstarted(IDuplexPipe pipe, CapnpConnectionOptions options) =>
        new(pipe, options, ownedLink: null, budget: null, timeouts: null);

    /// <summary>Waits until the reader may read again (see <see cref="OutboundBudget.ShouldPause"/>) or the connection ends.</summary>
    private ValueTask WaitForReaderRoomAsync()
    {
        if (!_budget.ShouldPause(Volatile.Read(ref _pendingBytes)) || IsDisconnected)
        {
            return default;
        }

        CapnpLog.ReadingPaused(_logger, _remoteAddress, Volatile.Read(ref _pendingBytes));
        _firstPause.TrySetResult();
        return _room.WaitWhileAsync(() => _budget.ShouldPause(Volatile.Read(ref _pendingBytes)) && !IsDisconnected);
    }

    // Read without the lock: the reader asks before every message and after every read, and the field
    // is written once (under the lock, published with a volatile write). A reader that sees it a
    // message late handles that message against the emptied tables, as it would have had the
    // connection ended just after the check.
    private bool IsDisconnected => Volatile.Read(ref _disconnected) is not null;

    // ===== Disconnect =====

    /// <summary>
    /// Ends the connection once: every question fails, every promise from the peer breaks, every
    /// answer's call is cancelled, every export and import is dropped. Other connections go on.
    /// </summary>
    private void Disconnect(RpcException error, bool sendAbort, string? abortReason = null)
    {
        using (Lock())
        {
            if (_disconnected is not null)
            {
                return;
            }

            if (sendAbort)
            {
                try
                {
                    var abort = NewMessageLocked(RpcSchema.Message.Abort, RpcSchema.Exception.DataWords, RpcSchema.Exception.Pointers, out var exception);
                    RpcErrors.Write(exception, new RpcException(RpcStatusCode.Failed, abortReason ?? error.Message));
                    SendLocked(abort);
                }
                catch (Exception failure)
                {
                    // The connection ends all the same, without telling the peer why.
                    CapnpLog.DeferredFailed(_logger, failure);
                }
            }

            // From here on the connection is ended whatever fails below: both loops are woken once
            // the lock is let go, and Completion is set last.
            Volatile.Write(ref _disconnected, error);
            _spareBuilder?.Dispose();
            _spareBuilder = null;
            _outbound.Writer.TryComplete();
            AfterUnlock(WakeLoops);
            try
            {
                ReleaseTablesLocked(error);
            }
            finally
            {
                ReleaseAfterUnlock(_bootstrap);
                AfterUnlock(() => _closed.TrySetResult());
                if (!sendAbort)
                {
                    CapnpLog.Closed(_logger, error.Message);
                }
            }
        }
    }

    /// <summary>Wakes the reader (a pending read, or a wait for room) and the writer (a flush the peer may never let finish), so both see the end.</summary>
    private void WakeLoops()
    {
        _room.Notify();
        try
        {
            _pipe.Input.CancelPendingRead();
        }
        catch (Exception)
        {
            // The reader already completed.
        }

        try
        {
            _pipe.Output.CancelPendingFlush();
        }
        catch (Exception)
        {
            // The writer already completed.
        }
    }

    /// <summary>Empties the four tables and the embargoes at disconnect: questions fail, promises break, answers' calls are cancelled, references are released.</summary>
    private void ReleaseTablesLocked(RpcException error)
    {
        foreach (var question in _questions.Values())
        {
            if (!question.ReturnReceived || question.AwaitingRedirect is not null)
            {
                question.ReturnReceived = true;
                question.AwaitingRedirect = null;
                CompleteQuestionLocked(question, null, error);
            }
        }

        _questions.Clear();
        foreach (var answer in _answers.Values)
        {
            if (answer.TakenBy is { AwaitingRedirect: not null } taker && taker.AwaitingRedirect == answer)
            {
                // Our question's results were to come from this answer (its id may already be free).
                taker.AwaitingRedirect = null;
                CompleteQuestionLocked(taker, null, error);
            }

            if (answer.Call is { } call && !answer.Completed)
            {
                AfterUnlock(call.Cancel);
            }

            if (answer.Result is { } result)
            {
                AfterUnlock(result.Release);
            }
        }

        _answers.Clear();
        foreach (var entry in _imports.Values)
        {
            if (entry.Promise is { } promise && promise.TryAddRef())
            {
                ResolvePromiseLocked(promise, new BrokenHook(error), isError: true);
                ReleaseAfterUnlock(promise);
            }
        }

        _imports.Clear();
        foreach (var export in _exports.Values())
        {
            ReleaseAfterUnlock(export.Hook);
        }

        _exports.Clear();
        _exportsByHook.Clear();
        foreach (var embargo in _embargoes.Values())
        {
            AfterUnlock(() =>
            {
                embargo.Queue.Resolve(new BrokenHook(error));
                embargo.Queue.Release();
                embargo.Target.Release();
            });
        }

        _embargoes.Clear();
    }
}
