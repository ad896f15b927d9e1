using System.Buffers;
using System.Collections.Concurrent;
using System.IO.Pipelines;

namespace RpcGen.Transport.Flow;

/// <summary>
/// One flow-controlled, bidirectional byte stream multiplexed over a <see cref="FlowConnection"/>.
/// Read its <see cref="Input"/> and write its <see cref="Output"/> like any <see cref="IDuplexPipe"/>,
/// or use <see cref="AsStream"/>, or exchange whole messages with <see cref="WriteMessageAsync(ReadOnlyMemory{byte}, CancellationToken)"/>
/// and <see cref="ReadMessageAsync"/>. Each direction ends on its own: completing <see cref="Output"/>
/// (or <see cref="CloseWriteAsync"/>) ends this side's bytes and the peer reads the end; <see cref="Reset"/>
/// ends both at once and the peer reads the reason as an error.
/// </summary>
/// <remarks>
/// Invariants: every field marked "gate" is read and written under the connection's gate (the one
/// lock of a connection; see <see cref="FlowConnection"/>). The pump is the only reader of the
/// outbound pipe; the connection's reader loop is the only writer of the inbound pipe. A flow leaves
/// the connection's table (retires) once this side's final frame (End or Reset) was written or
/// decided and the peer's final frame arrived; nothing about it is kept after that.
/// </remarks>
public sealed class Flow : IDuplexPipe, IAsyncDisposable
{
    private readonly FlowConnection _connection;
    private readonly Pipe _inbound;
    private readonly Pipe _outbound;
    private readonly FlowInput _input;
    private readonly FlowOutput _output;
    private readonly int _mtu;

    // Message boundaries of the inbound bytes: the length of each complete message, queued by the
    // reader loop before the message's last bytes are flushed to the inbound pipe.
    private readonly ConcurrentQueue<long> _inboundMessageLengths = new();

    // Message boundaries of the outbound bytes, as offsets from the flow's first byte. Under itself.
    private readonly Queue<long> _outboundBoundaries = new();

    // Bytes the user wrote (Advance) so far. Writer side only.
    private long _written;

    // Bytes the pump sent so far. Pump only.
    private long _sent;

    // Reader loop only: bytes of the inbound message being received.
    internal long InboundMessageBytes;

    internal Flow(FlowConnection connection, uint id, bool dialed, int mtu, long initialCredit)
    {
        _connection = connection;
        Id = id;
        IsDialed = dialed;
        _mtu = mtu;
        Borrowing = dialed;
        Credit = initialCredit;
        _inbound = new Pipe(new PipeOptions(
            pool: connection.Memory,
            minimumSegmentSize: FlowMemoryPool.BlockSize,
            pauseWriterThreshold: 0,
            readerScheduler: PipeScheduler.ThreadPool,
            writerScheduler: PipeScheduler.Inline,
            useSynchronizationContext: false));
        var pause = Math.Max(connection.Limits.WindowBytes, mtu);
        _outbound = new Pipe(new PipeOptions(
            pool: connection.Memory,
            minimumSegmentSize: FlowMemoryPool.BlockSize,
            pauseWriterThreshold: pause,
            resumeWriterThreshold: pause / 2,
            readerScheduler: PipeScheduler.ThreadPool,
            writerScheduler: PipeScheduler.ThreadPool,
            useSynchronizationContext: false));
        _input = new FlowInput(_inbound.Reader, this);
        _output = new FlowOutput(_outbound.Writer, this);
    }

    /// <summary>
    /// The flow's id on its connection (odd when the connection's dialer opened it, even otherwise).
    /// A flow this side opened gets its id when its first frame is written; 0 until then.
    /// </summary>
    public uint Id { get; internal set; }

    /// <summary>Whether this side opened the flow (false: accepted from the peer).</summary>
    public bool IsDialed { get; }

    /// <summary>The connection the flow travels on.</summary>
    public FlowConnection Connection => _connection;

    /// <inheritdoc />
    public PipeReader Input => _input;

    /// <inheritdoc />
    public PipeWriter Output => _output;

    /// <summary>Data frames written for this flow so far.</summary>
    public long FramesWritten { get; internal set; }

    /// <summary>
    /// The most frames (of any flow, and control frames) the connection wrote while one chunk of
    /// this flow waited to be written: how long a busy neighbour delayed it, counted in frames.
    /// </summary>
    public long MaxFramesWaited { get; internal set; }

    // ─── State under the connection's gate ────────────────────────────────

    /// <summary>Gate: whether the flow still sends on credit borrowed from the shared pool (dialed, no grant yet).</summary>
    internal bool Borrowing;

    /// <summary>Gate: bytes this side may still send on the flow's own window.</summary>
    internal long Credit;

    /// <summary>Gate: completes when credit changes; replaced after each wait.</summary>
    internal TaskCompletionSource? CreditWaiter;

    /// <summary>Gate: this side's final frame (End written, or Reset decided).</summary>
    internal bool LocalFinal;

    /// <summary>Gate: the peer's final frame (End or Reset) arrived.</summary>
    internal bool RemoteFinal;

    /// <summary>Gate: the user completed <see cref="Input"/>; later bytes are dropped and released at once.</summary>
    internal bool InputDone;

    /// <summary>Gate: own-window bytes granted to the peer, and received on it.</summary>
    internal long Granted;

    /// <summary>Gate: own-window bytes received.</summary>
    internal long ReceivedOwn;

    /// <summary>Gate: bytes received on borrowed credit (they come first: a dialer borrows only until its first grant).</summary>
    internal long ReceivedBorrowed;

    /// <summary>Gate: bytes the user consumed (or that were dropped after <see cref="InputDone"/>).</summary>
    internal long Consumed;

    /// <summary>Gate: own-window bytes consumed and not yet released to the peer.</summary>
    internal long PendingRelease;

    /// <summary>Set once when this side resets the flow; read by the writer without the gate.</summary>
    internal volatile bool IsResetLocally;

    /// <summary>Writer loop only: whether the flow's Open frame was written.</summary>
    internal bool OpenWritten;

    /// <summary>Borrowed bytes received and not consumed: returned to the pool when the flow retires.</summary>
    internal long UnconsumedBorrowed => ReceivedBorrowed - Math.Min(Consumed, ReceivedBorrowed);

    // ─── User API ─────────────────────────────────────────────────────────

    /// <summary>The flow as a <see cref="Stream"/>; disposing the stream disposes the flow.</summary>
    public Stream AsStream() => new FlowStream(this);

    /// <summary>Writes one message; the peer's <see cref="ReadMessageAsync"/> returns exactly these bytes.</summary>
    public ValueTask WriteMessageAsync(ReadOnlyMemory<byte> message, CancellationToken cancellationToken = default) =>
        WriteMessageAsync([message], close: false, cancellationToken);

    /// <summary>
    /// Writes several buffers as one message (v23's <c>WriteMsg</c>): the peer reads them back as one.
    /// Do not mix with concurrent writes to <see cref="Output"/>.
    /// </summary>
    public ValueTask WriteMessageAsync(IReadOnlyList<ReadOnlyMemory<byte>> parts, CancellationToken cancellationToken = default) =>
        WriteMessageAsync(parts, close: false, cancellationToken);

    /// <summary>Writes one message and ends this side's direction, in one frame when it fits.</summary>
    public ValueTask WriteMessageAndCloseAsync(IReadOnlyList<ReadOnlyMemory<byte>> parts, CancellationToken cancellationToken = default) =>
        WriteMessageAsync(parts, close: true, cancellationToken);

    private async ValueTask WriteMessageAsync(IReadOnlyList<ReadOnlyMemory<byte>> parts, bool close, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(parts);
        long total = 0;
        foreach (var part in parts)
        {
            total += part.Length;
        }

        if (total == 0)
        {
            throw new FlowException(FlowErrorCode.BadArg, "A message must hold at least one byte.");
        }

        if (_failure is { } failure)
        {
            throw failure as FlowException ?? new FlowException(FlowErrorCode.Aborted, failure.Message, failure);
        }

        foreach (var part in parts)
        {
            _output.Write(part.Span);
        }

        lock (_outboundBoundaries)
        {
            _outboundBoundaries.Enqueue(_written);
        }

        if (close)
        {
            await _output.CompleteAsync().ConfigureAwait(false);
            return;
        }

        var flushed = await _output.FlushAsync(cancellationToken).ConfigureAwait(false);
        if (flushed.IsCompleted)
        {
            throw _connection.CloseReason ?? new FlowException(FlowErrorCode.Aborted, $"Flow {Id} can no longer send.");
        }
    }

    /// <summary>
    /// Reads the next message the peer wrote with <see cref="WriteMessageAsync(ReadOnlyMemory{byte}, CancellationToken)"/>;
    /// null once the peer ended its direction. Bytes the peer wrote without message boundaries are
    /// read as one message that ends where the flow ends.
    /// </summary>
    /// <exception cref="FlowException">The flow was reset, or the message exceeds <see cref="FlowLimits.MaxMessageBytes"/>.</exception>
    public async ValueTask<byte[]?> ReadMessageAsync(CancellationToken cancellationToken = default)
    {
        var assembled = new ArrayBufferWriter<byte>();
        while (true)
        {
            var result = await _input.ReadAsync(cancellationToken).ConfigureAwait(false);
            var buffer = result.Buffer;
            var take = buffer.Length;
            var complete = false;
            if (_inboundMessageLengths.TryPeek(out var length) && assembled.WrittenCount + take >= length)
            {
                take = length - assembled.WrittenCount;
                complete = true;
            }

            if (assembled.WrittenCount + take > _connection.Limits.MaxMessageBytes)
            {
                _input.AdvanceTo(buffer.Start);
                var error = new FlowException(FlowErrorCode.BadState, $"A message on flow {Id} exceeds MaxMessageBytes ({_connection.Limits.MaxMessageBytes}).");
                Reset(error.Message);
                throw error;
            }

            foreach (var segment in buffer.Slice(0, take))
            {
                assembled.Write(segment.Span);
            }

            _input.AdvanceTo(buffer.GetPosition(take));
            if (complete)
            {
                _inboundMessageLengths.TryDequeue(out _);
                return assembled.WrittenSpan.ToArray();
            }

            if (result.IsCompleted && take == buffer.Length)
            {
                return assembled.WrittenCount > 0 ? assembled.WrittenSpan.ToArray() : null;
            }
        }
    }

    /// <summary>Ends this side's direction after what was written; the peer reads the end. Reading goes on.</summary>
    public ValueTask CloseWriteAsync() => _output.CompleteAsync();

    /// <summary>
    /// Ends the flow at once in both directions: unsent bytes are dropped, this side's reads and
    /// writes fail, and the peer's fail with a <see cref="FlowException"/> (<see cref="FlowErrorCode.Aborted"/>)
    /// that carries <paramref name="reason"/>.
    /// </summary>
    public void Reset(string reason) => _connection.ResetFlow(this, reason, new FlowException(FlowErrorCode.Aborted, $"Flow {Id} was reset: {reason}"));

    /// <summary>Ends this side's direction gracefully (what was written is still sent) and stops reading.</summary>
    public async ValueTask DisposeAsync()
    {
        await _output.CompleteAsync().ConfigureAwait(false);
        await _input.CompleteAsync().ConfigureAwait(false);
    }

    // ─── Called by the pipes ──────────────────────────────────────────────

    internal void OnWritten(int bytes) => _written += bytes;

    internal void OnConsumed(long bytes) => _connection.OnConsumed(this, bytes);

    internal void OnInputCompleted() => _connection.OnInputCompleted(this);

    // ─── Called by the connection ─────────────────────────────────────────

    /// <summary>Starts the pump that moves the user's bytes to the writer as credit allows.</summary>
    internal void Start() => _ = PumpAsync();

    /// <summary>Reader loop: delivers received bytes; <paramref name="messageEnd"/> closes the current message.</summary>
    internal ValueTask<FlushResult> DeliverAsync(in ReadOnlySequence<byte> payload, bool messageEnd)
    {
        InboundMessageBytes += payload.Length;
        if (messageEnd)
        {
            // Queued before the bytes are visible, so a reader that sees the last byte sees the length.
            _inboundMessageLengths.Enqueue(InboundMessageBytes);
            InboundMessageBytes = 0;
        }

        foreach (var segment in payload)
        {
            _inbound.Writer.Write(segment.Span);
        }

        return _inbound.Writer.FlushAsync();
    }

    /// <summary>Reader loop: the peer ended its direction (null) or the flow failed.</summary>
    internal void EndInbound(Exception? error) => _inbound.Writer.Complete(error);

    /// <summary>The flow failed: wake the pump so it stops, and make the user's writes fail.</summary>
    internal void FailOutbound(Exception error)
    {
        _failure ??= error;
        _outbound.Reader.CancelPendingRead();
    }

    private volatile Exception? _failure;

    private async Task PumpAsync()
    {
        await Task.Yield();
        var reader = _outbound.Reader;
        Exception? error = null;
        try
        {
            while (true)
            {
                var result = await reader.ReadAsync().ConfigureAwait(false);
                var buffer = result.Buffer;
                if (_failure is { } failure)
                {
                    reader.AdvanceTo(buffer.End);
                    error = failure;
                    break;
                }

                if (buffer.IsEmpty)
                {
                    reader.AdvanceTo(buffer.Start);
                    if (result.IsCompleted)
                    {
                        await _connection.Writer.SendDataAsync(this, default, FlowFrameFlags.End).ConfigureAwait(false);
                        break;
                    }

                    continue;
                }

                var want = Math.Min(buffer.Length, _mtu);
                var flags = FlowFrameFlags.None;
                long boundary = -1;
                lock (_outboundBoundaries)
                {
                    if (_outboundBoundaries.TryPeek(out var next))
                    {
                        boundary = next;
                    }
                }

                if (boundary > _sent && boundary - _sent <= want)
                {
                    want = boundary - _sent;
                    flags |= FlowFrameFlags.MessageEnd;
                }

                var (granted, borrowed) = await _connection.AcquireCreditAsync(this, want).ConfigureAwait(false);
                if (granted < want)
                {
                    flags &= ~FlowFrameFlags.MessageEnd;
                }

                var last = result.IsCompleted && granted == buffer.Length;
                flags |= (last ? FlowFrameFlags.End : 0) | (borrowed ? FlowFrameFlags.Borrowed : 0);
                await _connection.Writer.SendDataAsync(this, buffer.Slice(0, granted), flags).ConfigureAwait(false);
                _sent += granted;
                if ((flags & FlowFrameFlags.MessageEnd) != 0)
                {
                    lock (_outboundBoundaries)
                    {
                        _outboundBoundaries.TryDequeue(out _);
                    }
                }

                reader.AdvanceTo(buffer.GetPosition(granted));
                if (last)
                {
                    break;
                }
            }
        }
        catch (Exception ex)
        {
            error = ex as FlowException ?? _failure ?? new FlowException(FlowErrorCode.Aborted, $"Flow {Id} failed: {ex.Message}", ex);
        }

        await reader.CompleteAsync(error).ConfigureAwait(false);
        if (error is not null && !IsResetLocally)
        {
            _connection.ResetFlow(this, error.Message, error as FlowException ?? new FlowException(FlowErrorCode.Aborted, error.Message));
        }
    }
}
