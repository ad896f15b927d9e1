using System.Buffers;
using System.IO.Pipelines;
using System.Threading.Channels;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
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
/// imports (the peer's capabilities we hold) and exports (ours the peer holds), plus our embargoes.
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
/// </remarks>
public sealed partial class CapnpConnection : IAsyncDisposable
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

    // ===== The four tables (and embargoes); all guarded by _gate =====

    // Calls and bootstraps we sent. An id is free again once its Return arrived and our Finish went out.
    private readonly IdTable<Question> _questions = new();

    // Calls and bootstraps the peer sent, by the peer's question id, until the peer's Finish.
    private readonly Dictionary<uint, Answer> _answers = [];

    // The peer's capabilities we hold, by the peer's export id, while any reference to them lives.
    private readonly Dictionary<uint, ImportEntry> _imports = [];

    // Our capabilities the peer holds, until the peer releases every reference we sent.
    private readonly IdTable<ExportEntry> _exports = new();

    // The export id of each exported hook, so sending the same capability twice reuses its id.
    private readonly Dictionary<CapabilityHook, uint> _exportsByHook = new(ReferenceEqualityComparer.Instance);

    // Embargoes we asked for, by the id in our senderLoopback Disembargo, until it comes back.
    private readonly IdTable<Embargo> _embargoes = new();

    // Set once, when the connection ends; every later operation fails with it.
    private RpcException? _disconnected;

    // Work to run when the outermost holder of _gate lets go (hook releases, deliveries).
    private int _lockDepth;
    private List<Action>? _afterUnlock;

    private CapnpConnection(IDuplexPipe pipe, CapnpConnectionOptions options, IAsyncDisposable? ownedLink)
    {
        _pipe = pipe;
        _options = options;
        _ownedLink = ownedLink;
        _logger = options.Logger ?? NullLogger.Instance;
        options.ReaderOptions.Validate();
        _frames = new CapnpFrameReader(options.ReaderOptions);
        _bootstrap = options.Bootstrap?.Hook.AddRef();
    }

    /// <summary>Completes when the connection has ended, for whatever reason (see <see cref="DisconnectReason"/>).</summary>
    public Task Completion => _closed.Task;

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
        var connection = new CapnpConnection(link, options ?? new CapnpConnectionOptions(), ownsLink ? link as IAsyncDisposable : null);
        connection._writing = connection.WriteLoopAsync();
        connection._reading = connection.ReadLoopAsync();
        connection._finished = connection.FinishAsync();
        return connection;
    }

    /// <summary>Connects to <c>tcp://HOST:PORT</c> or <c>unix:PATH</c> and runs the protocol over it.</summary>
    public static async Task<CapnpConnection> ConnectAsync(string address, CapnpConnectionOptions? options = null, CancellationToken cancellationToken = default)
    {
        var link = await RpcLinks.ConnectAsync(address, cancellationToken: cancellationToken).ConfigureAwait(false);
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
            var builder = NewMessage(RpcSchema.Message.Bootstrap, RpcSchema.Bootstrap.DataWords, RpcSchema.Bootstrap.Pointers, out var bootstrap);
            bootstrap.WriteUInt32(RpcSchema.Bootstrap.QuestionId, question.Id);
            SendLocked(builder);

            // Nobody takes the bootstrap response itself: it only resolves the pipelined capability.
            var capability = GetQuestionPipelinedHookLocked(question, PipelinePath.Root);
            question.Dropped = true;
            question.Completion.TrySetException(RpcErrors.Cancelled());
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

    /// <summary>Once both directions have stopped, closes the link (which ends the peer's stream too).</summary>
    private async Task FinishAsync()
    {
        await Task.WhenAll(_writing, _reading).ConfigureAwait(false);
        if (_ownedLink is not null)
        {
            await _ownedLink.DisposeAsync().ConfigureAwait(false);
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

    private static CapnpMessageBuilder NewMessage(ushort which, ushort dataWords, ushort pointers, out StructBuilder body)
    {
        var builder = new CapnpMessageBuilder(firstSegmentWords: 32);
        var message = builder.InitRoot(RpcSchema.Message.DataWords, RpcSchema.Message.Pointers);
        message.WriteUInt16(RpcSchema.Message.Which, which);
        body = message.InitStruct(RpcSchema.Message.Body, dataWords, pointers);
        return builder;
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
            CapnpFraming.Write(builder, new FixedBufferWriter(buffer));
            if (!_outbound.Writer.TryWrite((buffer, length)))
            {
                ArrayPool<byte>.Shared.Return(buffer);
            }
        }
        finally
        {
            if (dispose)
            {
                builder.Dispose();
            }
        }
    }

    private async Task WriteLoopAsync()
    {
        var output = _pipe.Output;
        try
        {
            var reader = _outbound.Reader;
            while (await reader.WaitToReadAsync().ConfigureAwait(false))
            {
                while (reader.TryRead(out var frame))
                {
                    output.Write(frame.Buffer.AsSpan(0, frame.Length));
                    ArrayPool<byte>.Shared.Return(frame.Buffer);
                }

                var flushed = await output.FlushAsync().ConfigureAwait(false);
                if (flushed.IsCompleted || flushed.IsCanceled)
                {
                    break;
                }
            }
        }
        catch (Exception error)
        {
            Disconnect(RpcErrors.Disconnected("Writing to the peer failed: " + error.Message), sendAbort: false);
        }
        finally
        {
            while (_outbound.Reader.TryRead(out var frame))
            {
                ArrayPool<byte>.Shared.Return(frame.Buffer);
            }

            await output.CompleteAsync().ConfigureAwait(false);
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
                try
                {
                    while (!IsDisconnected && _frames.TryRead(ref buffer, out var message))
                    {
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
                finally
                {
                    input.AdvanceTo(buffer.Start, buffer.End);
                }

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
            }
        }
        catch (Exception error)
        {
            Disconnect(RpcErrors.Disconnected("Reading from the peer failed: " + error.Message), sendAbort: false);
        }
        finally
        {
            await input.CompleteAsync().ConfigureAwait(false);
        }
    }

    private bool IsDisconnected
    {
        get
        {
            lock (_gate)
            {
                return _disconnected is not null;
            }
        }
    }

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
                var abort = NewMessage(RpcSchema.Message.Abort, RpcSchema.Exception.DataWords, RpcSchema.Exception.Pointers, out var exception);
                RpcErrors.Write(exception, new RpcException(RpcStatusCode.Failed, abortReason ?? error.Message));
                SendLocked(abort);
            }

            _disconnected = error;
            _outbound.Writer.TryComplete();
            try
            {
                _pipe.Input.CancelPendingRead();
            }
            catch (InvalidOperationException)
            {
                // The reader already completed.
            }

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
            ReleaseAfterUnlock(_bootstrap);
            AfterUnlock(() => _closed.TrySetResult());
            if (!sendAbort)
            {
                CapnpLog.Closed(_logger, error.Message);
            }
        }
    }

    /// <summary>An <see cref="IBufferWriter{T}"/> over an array known to be large enough.</summary>
    private sealed class FixedBufferWriter(byte[] buffer) : IBufferWriter<byte>
    {
        private int _written;

        public void Advance(int count) => _written += count;

        public Memory<byte> GetMemory(int sizeHint = 0) => buffer.AsMemory(_written);

        public Span<byte> GetSpan(int sizeHint = 0) => buffer.AsSpan(_written);
    }
}
