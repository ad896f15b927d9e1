using System.Buffers;
using System.Diagnostics;
using System.IO.Pipelines;

namespace RpcGen.Transport.SharedMemory;

/// <summary>
/// The link's <see cref="PipeWriter"/>: the protocol serializes its frames straight into the free send
/// window's datagram area, with no outbound pipe and no sender copying from it.
/// <list type="bullet">
/// <item><see cref="GetSpan"/>/<see cref="GetMemory"/> take the next window in ring order (waiting briefly
/// only when all K are still with the reader) and hand out its unwritten rest;
/// <see cref="Advance"/> counts. A window that fills up is handed over at once, so a frame larger than a
/// window spans windows and the reader starts on its first part while the rest is written. A size hint
/// larger than the rest of the window hands the written part over and takes the next window; one
/// larger than a whole window is served from a pooled buffer whose bytes <see cref="Advance"/> spreads
/// over windows.</item>
/// <item><see cref="FlushAsync"/> hands over the partly written window (if any) and returns completed:
/// the datagram is in the peer's hands, nothing is left to wait for (except while the backlog below drains).</item>
/// <item>A write never holds its thread for long: when every window is still with the peer after a
/// short wait (<see cref="TakePatience"/>), what is written goes into a <see cref="WindowBacklog"/>
/// instead, and the flush returns a pending task, completed by a drain that moves the backlog into
/// windows as the peer gives them back, polling without holding a thread (see
/// <see cref="DrainBacklogAsync"/>). A peer that stops taking data then holds no thread of this
/// process's (a handler's, the thread pool's), only its own link's bytes, until the peer timeout
/// gives it up. Once the backlog is empty the writer writes into windows again.</item>
/// <item>One protocol thread writes at a time (the <see cref="PipeWriter"/> contract). The gate is
/// taken from <c>GetSpan</c> to <c>Advance</c> and around <c>FlushAsync</c>/<c>Complete</c>; the link's
/// closing path takes it too, so it never runs beside a protocol write, and it is taken for good
/// (<see cref="ParkAsync"/>) before the windows are unmapped, so no thread writes into unmapped memory.</item>
/// </list>
/// Errors (the peer shut the windows down, broke the protocol, stopped taking data) fail the link.
/// As over a byte-stream link whose peer is gone, a write after that goes nowhere (into a pooled
/// buffer) and the flush fails with <see cref="RpcException"/> (<see cref="RpcStatusCode.Disconnected"/>);
/// a write after the output was completed throws <see cref="InvalidOperationException"/>, as a completed
/// pipe writer does.
/// </summary>
internal sealed class WindowWriter : PipeWriter
{
    private readonly SharedMemoryLink _link;
    private readonly SharedMemoryEndpoint[] _windows;
    private readonly WindowMemory[] _memories;
    private readonly TimeSpan _peerTimeout;
    private readonly TimeSpan _closeTimeout;
    private readonly int _capacity;

    // Held by the one thread writing now (a protocol thread from GetSpan to Advance, or around a flush
    // or completion; the link's closing path); taken for good by ParkAsync.
    private readonly WriterGate _gate = new();

    // The fields below are touched only by the gate's holder.

    // The window in ring order that is held or taken next.
    private int _next;

    // Whether this side holds window _next (taken, not yet handed over); _written bytes are in it.
    private bool _holding;
    private int _written;

    // Whether the protocol's writing thread took the gate and has not released it: from GetMemory
    // until Advance (a span is out), and through a flush. Only that thread reads or writes it; the
    // thread that ends the stream holds the gate without it.
    private bool _gateHeld;

    // The pooled buffer a size hint larger than a window was served from, while its span is out.
    private byte[]? _overflow;

    // Set once the stream ended (gracefully or not): every later write fails. Read without the gate
    // by the backlog's paths.
    private volatile bool _completed;

    // How long a write waits, on its own thread, for the peer to give a window back before it
    // queues into the backlog: long enough for a peer whose receiving thread sleeps (a futex wake
    // costs ~70 µs here) to wake and take a window, so a peer that keeps up never meets the
    // backlog; short enough that a peer that takes nothing costs the writing thread this once.
    internal static readonly TimeSpan TakePatience = TimeSpan.FromMilliseconds(1);

    // The drain's polls for a window back: from 1 ms, doubling up to this.
    private const int MaxDrainPollMilliseconds = 16;

    // How late the end of the stream notices a stop while it waits for the protocol's backlog write.
    private static readonly TimeSpan SpanWaitSlice = TimeSpan.FromMilliseconds(100);

    // The slow path: bytes written while the peer held every window (see WindowBacklog).
    // _backlogActive is set by the protocol's writing thread holding the gate, and cleared by a
    // drain pass, under _backlogLock, right after it released the gate: a writer that sees it clear
    // finds the gate free (unless a closing path took it). While it is set, protocol writes go to
    // the backlog without the gate, and each drain pass takes the gate to touch the windows.
    private readonly object _backlogLock = new();
    private readonly WindowBacklog _backlog = new();
    private volatile bool _backlogActive;

    // Under _backlogLock: a drain has started and not yet found the backlog empty, so a flush now
    // can wait for that drain (it looks at the backlog again before it ends).
    private bool _drainRunning;

    // The drain in flight, for flushes while it runs; touched only by the protocol's flushing thread.
    private Task<FlushResult>? _drain;

    // Set once the end of the stream went out (End succeeded): a drain that finds it reports the
    // stream ended, not a failure, even after the link then stopped.
    private volatile bool _endSent;

    // CancelPendingFlush's signals: the pending flush's (taken and cancelled by it), or, when no flush
    // pends, a mark that the next flush reports cancelled, as a pipe's does.
    private CancellationTokenSource? _pendingFlushCancel;
    private volatile bool _cancelNextFlush;

    private const string CompletedMessage = "Writing is not allowed after the shared-memory link's output was completed.";

    // Set by the protocol's Complete or CompleteAsync, on its own thread, before the end of the
    // stream is sent on another: a write after it fails at once, as on a completed pipe writer.
    private volatile bool _endRequested;

    // The pooled buffer a write is served from, while its span is out, once the link has stopped: its
    // bytes go nowhere. Touched only by the one protocol thread writing, which then holds no gate.
    private byte[]? _discard;

    public unsafe WindowWriter(SharedMemoryLink link, SharedMemoryEndpoint[] windows, TimeSpan peerTimeout, TimeSpan closeTimeout)
    {
        _link = link;
        _windows = windows;
        _peerTimeout = peerTimeout;
        _closeTimeout = closeTimeout;
        _capacity = windows[0].DataCapacity;
        _memories = new WindowMemory[windows.Length];
        for (var i = 0; i < windows.Length; i++)
        {
            _memories[i] = new WindowMemory(windows[i].DataAddress, windows[i].DataCapacity);
        }
    }

    public override Span<byte> GetSpan(int sizeHint = 0) => GetMemory(sizeHint).Span;

    public override Memory<byte> GetMemory(int sizeHint = 0)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(sizeHint);
        if (_backlogActive && TryGetBacklogMemory(sizeHint, out var queued))
        {
            return queued;
        }

        if (_discard is not null || !TryEnter())
        {
            return Discard(sizeHint);
        }

        try
        {
            if (_overflow is not null)
            {
                // A second GetMemory before Advance: keep serving the pooled buffer if it is big enough.
                if (sizeHint <= _overflow.Length)
                {
                    return _overflow;
                }

                ArrayPool<byte>.Shared.Return(_overflow);
                _overflow = null;
            }

            if (sizeHint > _capacity)
            {
                _overflow = ArrayPool<byte>.Shared.Rent(sizeHint);
                return _overflow;
            }

            if (_holding && _capacity - _written < Math.Max(sizeHint, 1))
            {
                HandOver();
            }

            if (!_holding && !TryTake())
            {
                return EnterBacklog(sizeHint);
            }

            return _memories[_next].Memory[_written..];
        }
        catch (Exception ex)
        {
            // As over a socket whose peer is gone: the write goes nowhere, the flush reports the failure.
            ReleaseOverflow();
            Exit();
            _ = _link.SendFailed(ex);
            return Discard(sizeHint);
        }
    }

    public override void Advance(int bytes)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(bytes);
        if (_discard is { } discard)
        {
            ArgumentOutOfRangeException.ThrowIfGreaterThan(bytes, discard.Length);
            _discard = null;
            ArrayPool<byte>.Shared.Return(discard);
            return;
        }

        if (_endRequested)
        {
            throw new InvalidOperationException(CompletedMessage);
        }

        if (_backlogActive)
        {
            lock (_backlogLock)
            {
                if (_backlogActive)
                {
                    _backlog.Advance(bytes);

                    // The end of the stream may wait for this write (SendBacklogWaiting).
                    Monitor.PulseAll(_backlogLock);
                    return;
                }
            }
        }

        if (!_gateHeld)
        {
            ArgumentOutOfRangeException.ThrowIfNotEqual(bytes, 0);
            return;
        }

        try
        {
            if (_overflow is { } overflow)
            {
                ArgumentOutOfRangeException.ThrowIfGreaterThan(bytes, overflow.Length);
                _overflow = null;
                try
                {
                    Spread(overflow.AsSpan(0, bytes));
                }
                finally
                {
                    ArrayPool<byte>.Shared.Return(overflow);
                }

                return;
            }

            ArgumentOutOfRangeException.ThrowIfGreaterThan(bytes, _capacity - _written);
            _written += bytes;
            if (_written == _capacity)
            {
                HandOver();
            }
        }
        catch (Exception ex) when (ex is not ArgumentOutOfRangeException)
        {
            // The link failed under the write; the next flush reports it.
            _ = _link.SendFailed(ex);
        }
        finally
        {
            Exit();
        }
    }

    public override ValueTask<FlushResult> FlushAsync(CancellationToken cancellationToken = default)
    {
        if (_discard is { } discard)
        {
            _discard = null;
            ArrayPool<byte>.Shared.Return(discard);
            return ValueTask.FromException<FlushResult>(_link.ClosedError());
        }

        var canceled = TakeCancelNextFlush();
        if (_backlogActive && FlushBacklog(canceled, cancellationToken) is { } draining)
        {
            return draining;
        }

        if (!TryEnter())
        {
            return ValueTask.FromException<FlushResult>(_link.ClosedError());
        }

        try
        {
            ReleaseOverflow();
            if (_holding && _written > 0)
            {
                HandOver();
            }

            return new ValueTask<FlushResult>(new FlushResult(isCanceled: canceled, isCompleted: false));
        }
        catch (Exception ex)
        {
            return ValueTask.FromException<FlushResult>(_link.SendFailed(ex));
        }
        finally
        {
            Exit();
        }
    }

    /// <summary>
    /// Ends the wait of a flush pending on the backlog's drain with a cancelled result (its bytes stay
    /// queued and go out in order); with none pending, the next flush reports cancelled, as a pipe's
    /// does. A Cap'n Proto connection uses it to wake its writer from a peer that may never take data.
    /// </summary>
    public override void CancelPendingFlush()
    {
        if (Interlocked.Exchange(ref _pendingFlushCancel, null) is { } pending)
        {
            pending.Cancel();
        }
        else
        {
            _cancelNextFlush = true;
        }
    }

    /// <summary>Whether <see cref="CancelPendingFlush"/> marked this flush cancelled (the mark is used up).</summary>
    private bool TakeCancelNextFlush()
    {
        if (!_cancelNextFlush)
        {
            return false;
        }

        _cancelNextFlush = false;
        return true;
    }

    /// <summary>
    /// Without an error: hands over what is written, then sends the end of the stream and waits
    /// (bounded) for the peer to take it, so the peer sees a graceful close; that is done on a thread
    /// of its own (see <see cref="CloseAsync"/>), so this returns at once and a peer that takes
    /// nothing never holds the caller's thread. Writes after it throw at once. With an error: fails the link.
    /// </summary>
    public override void Complete(Exception? exception = null)
    {
        if (exception is not null)
        {
            _link.Fail($"the protocol completed the link's output with an error: {exception.Message}");
            return;
        }

        // End reports its own failures to the link and never throws: nothing to observe.
        _ = StartEnd();
    }

    /// <summary>
    /// As <see cref="Complete"/>; the returned task completes when the peer took the end of the
    /// stream, or when a timeout or the link's stop ended the wait.
    /// </summary>
    public override ValueTask CompleteAsync(Exception? exception = null)
    {
        if (exception is not null)
        {
            Complete(exception);
            return default;
        }

        return StartEnd() is { } ending ? new ValueTask(ending) : default;
    }

    /// <summary>
    /// Takes the gate (or keeps the one the protocol holds while a span is out) for the protocol's
    /// end of the stream, and hands it to the ending thread; while a backlog drains, the end waits
    /// for the drain's pass to let the gate go. Null when the link's closing path holds the writer,
    /// and ends the stream itself.
    /// </summary>
    private Task<bool>? StartEnd()
    {
        if (_endRequested)
        {
            return null;
        }

        if (_gateHeld)
        {
            _endRequested = true;
            _gateHeld = false;
            return EndOnOwnThread();
        }

        // Under the lock a drain pass's switch back to the windows (gate released, then the backlog
        // cleared) is all or nothing: either the gate is free or the backlog is still active.
        lock (_backlogLock)
        {
            // A span the protocol took from the backlog and never advanced is abandoned with the
            // stream, as a pipe's is: the end must not wait for it.
            AbandonBacklogSpan();
            if (_gate.TryEnter())
            {
                _endRequested = true;
                return EndOnOwnThread();
            }

            if (!_backlogActive)
            {
                return null;
            }

            _endRequested = true;
        }

        return EndAfterDrainPassAsync();
    }

    /// <summary>Ends the stream once the backlog's drain lets the gate go (End sends the backlog first).</summary>
    private async Task<bool> EndAfterDrainPassAsync()
    {
        if (!await _gate.WaitAsync(_peerTimeout).ConfigureAwait(false))
        {
            // The link stopped (the gate was taken for good) or a closing path ends the stream.
            return false;
        }

        return await EndOnOwnThread().ConfigureAwait(false);
    }

    /// <summary>Ends the stream (<see cref="End"/>) on a thread of its own, which the gate, taken by the caller, passes to.</summary>
    private Task<bool> EndOnOwnThread() =>
        Task.Factory.StartNew(End, CancellationToken.None, TaskCreationOptions.LongRunning, TaskScheduler.Default);

    /// <summary>
    /// The link's graceful close: waits for the protocol thread to finish its write (at most the peer
    /// timeout), then ends the stream as <see cref="Complete"/> does. Returns whether the end went out.
    /// Ending the stream waits for the peer (for a window it has not acknowledged, then for it to take
    /// the end: up to the peer and close timeouts), so it runs on a thread of its own, never the
    /// caller's: the caller's own bound on the close applies, and its <see cref="RpcGen.Links.RpcLink.Abort"/>
    /// (which shuts the windows down) ends the wait at once. A peer that stopped taking data then
    /// holds no thread of the caller's, and none of the thread pool's.
    /// </summary>
    public async Task<bool> CloseAsync()
    {
        if (!await _gate.WaitAsync(_peerTimeout).ConfigureAwait(false))
        {
            // Refused at once when the link has stopped and taken the writer for good: nothing can go out then.
            if (!_link.IsStopped)
            {
                _link.Fail("the protocol's write did not finish before the link was closed");
            }

            return false;
        }

        return await EndOnOwnThread().ConfigureAwait(false);
    }

    /// <summary>
    /// Takes the writer for good once the link has stopped, so nothing writes into the windows after
    /// they are unmapped. A protocol thread still writing was woken by the shutdown; one that holds a
    /// span it never advances keeps the gate, and then this returns false after <paramref name="timeout"/>
    /// and the caller must leave the mapping in place.
    /// </summary>
    public Task<bool> ParkAsync(TimeSpan timeout) => _gate.ParkAsync(timeout);

    /// <summary>
    /// The window the next datagram goes to, read without the gate: where the peer's receiving thread
    /// waits once it has taken everything sent. A writer that moves it meanwhile hands a datagram
    /// over there, which wakes that thread anyway.
    /// </summary>
    public int NextWindow => Volatile.Read(ref _next);

    private bool End()
    {
        try
        {
            if (_completed)
            {
                return false;
            }

            _completed = true;
            ReleaseOverflow();
            SendBacklogWaiting();
            if (_holding && _written > 0)
            {
                HandOver();
            }

            // The empty datagram is the end of the stream.
            if (!_holding)
            {
                _windows[_next].AcquireControl(_peerTimeout);
            }

            var last = _windows[_next];
            _holding = false;
            last.HandOff(0);
            _endSent = true;
            last.AcquireControl(_closeTimeout);
            return true;
        }
        catch (Exception ex)
        {
            _ = _link.SendFailed(ex);
            return false;
        }
        finally
        {
            // The gate came with the call (TakeWriterToEnd, CloseAsync), not through _gateHeld,
            // which is the writing protocol thread's own.
            _gate.Exit();
            _link.OnOutputEnded();
        }
    }

    /// <summary>
    /// Takes the gate for a write or a flush (or keeps it, while a span is out). False when the link
    /// stopped or is closing: the caller discards the write, or fails the flush. Throws, as a completed
    /// pipe writer does, once the output was completed.
    /// </summary>
    private bool TryEnter()
    {
        if (_endRequested)
        {
            throw new InvalidOperationException(CompletedMessage);
        }

        if (!_gateHeld)
        {
            if (!_gate.TryEnter())
            {
                // Only the closing path (or ParkAsync) holds it while no protocol thread writes.
                return false;
            }

            _gateHeld = true;
        }

        if (_completed)
        {
            Exit();
            throw new InvalidOperationException(CompletedMessage);
        }

        if (_link.IsStopped)
        {
            ReleaseOverflow();
            Exit();
            return false;
        }

        return true;
    }

    /// <summary>Memory for a write that goes nowhere, because the link stopped.</summary>
    private byte[] Discard(int sizeHint)
    {
        if (_discard is { } discard)
        {
            if (discard.Length >= Math.Max(sizeHint, 1))
            {
                return discard;
            }

            ArrayPool<byte>.Shared.Return(discard);
        }

        return _discard = ArrayPool<byte>.Shared.Rent(Math.Max(sizeHint, 4096));
    }

    private void Exit()
    {
        if (_gateHeld)
        {
            _gateHeld = false;
            _gate.Exit();
        }
    }

    /// <summary>Takes window <see cref="_next"/>: at once unless all K are still with the reader, then it waits for the oldest (bounded by the peer timeout).</summary>
    private void Take()
    {
        _windows[_next].AcquireControl(_peerTimeout);
        _holding = true;
        _written = 0;
    }

    /// <summary>Takes window <see cref="_next"/> as <see cref="Take"/> does, waiting at most <see cref="TakePatience"/>; false when the peer still holds it.</summary>
    private bool TryTake()
    {
        if (!_windows[_next].TryAcquireControl(TakePatience, out _))
        {
            return false;
        }

        _holding = true;
        _written = 0;
        return true;
    }

    /// <summary>
    /// Switches writes to the backlog (the peer holds every window): the protocol's writing thread,
    /// which holds the gate and no window, lets the gate go (each drain pass takes it) and gets its
    /// memory from the backlog.
    /// </summary>
    private Memory<byte> EnterBacklog(int sizeHint)
    {
        Memory<byte> memory;
        lock (_backlogLock)
        {
            _backlogActive = true;
            memory = _backlog.GetMemory(sizeHint);
        }

        Exit();
        return memory;
    }

    /// <summary>Memory from the backlog while it is active; false once a drain switched writes back to the windows.</summary>
    private bool TryGetBacklogMemory(int sizeHint, out Memory<byte> memory)
    {
        lock (_backlogLock)
        {
            if (!_backlogActive)
            {
                memory = default;
                return false;
            }

            if (_endRequested)
            {
                throw new InvalidOperationException(CompletedMessage);
            }

            if (_link.IsStopped || _completed)
            {
                // As over a socket whose peer is gone (or once the link's close is sending the end
                // of the stream, which sends what the backlog holds first): the write goes nowhere,
                // the flush reports it.
                if (_link.IsStopped)
                {
                    _backlog.Clear();
                }
                else
                {
                    // A second GetMemory abandons the first span, which the close must not wait for.
                    AbandonBacklogSpan();
                }

                memory = Discard(sizeHint);
                return true;
            }

            memory = _backlog.GetMemory(sizeHint);
            return true;
        }
    }

    /// <summary>A flush while the backlog is active: waits for the drain in flight, or starts one; null once a drain switched writes back to the windows.</summary>
    private ValueTask<FlushResult>? FlushBacklog(bool canceled, CancellationToken cancellationToken)
    {
        lock (_backlogLock)
        {
            if (!_backlogActive)
            {
                return null;
            }

            // A flush commits what was advanced; a span taken and not advanced is abandoned.
            AbandonBacklogSpan();
            if (_link.IsStopped || _completed)
            {
                if (_link.IsStopped)
                {
                    _backlog.Clear();
                }

                return ValueTask.FromException<FlushResult>(_link.ClosedError());
            }

            // A drain in flight looks at the backlog again before it ends, so it sends what this
            // flush covers.
            if (!_drainRunning)
            {
                _drainRunning = true;
                _drain = null;
            }
        }

        if (_drain is null)
        {
            _drain = DrainBacklogAsync();

            // A drain whose waiters gave up still fails the link when it fails; nobody need observe it.
            _ = _drain.ContinueWith(static drain => _ = drain.Exception, CancellationToken.None, TaskContinuationOptions.OnlyOnFaulted | TaskContinuationOptions.ExecuteSynchronously, TaskScheduler.Default);
        }

        if (_drain.IsCompleted)
        {
            return new ValueTask<FlushResult>(_drain);
        }

        if (canceled)
        {
            return new ValueTask<FlushResult>(new FlushResult(isCanceled: true, isCompleted: false));
        }

        var pendingFlush = new CancellationTokenSource();
        Volatile.Write(ref _pendingFlushCancel, pendingFlush);
        if (TakeCancelNextFlush())
        {
            // CancelPendingFlush came between the look above and the publication.
            pendingFlush.Cancel();
        }

        return new ValueTask<FlushResult>(WaitForDrainAsync(_drain, pendingFlush, cancellationToken));
    }

    /// <summary>
    /// A pending flush's wait for the drain: its own token throws, as a pipe's does;
    /// <see cref="CancelPendingFlush"/> ends it with a cancelled result. Either way the bytes stay
    /// queued and go out in order.
    /// </summary>
    private async Task<FlushResult> WaitForDrainAsync(Task<FlushResult> drain, CancellationTokenSource pendingFlush, CancellationToken cancellationToken)
    {
        using var either = CancellationTokenSource.CreateLinkedTokenSource(pendingFlush.Token, cancellationToken);
        try
        {
            return await drain.WaitAsync(either.Token).ConfigureAwait(false);
        }
        catch (OperationCanceledException) when (pendingFlush.IsCancellationRequested && !cancellationToken.IsCancellationRequested)
        {
            return new FlushResult(isCanceled: true, isCompleted: false);
        }
        finally
        {
            Interlocked.CompareExchange(ref _pendingFlushCancel, null, pendingFlush);
        }
    }

    /// <summary>Drops the protocol's backlog span that it will never advance (under the backlog lock).</summary>
    private void AbandonBacklogSpan()
    {
        if (_backlog.SpanOut)
        {
            _backlog.Advance(0);
            Monitor.PulseAll(_backlogLock);
        }
    }

    /// <summary>
    /// Moves the backlog into windows as the peer gives them back, then switches writes back to the
    /// windows. Each pass takes what windows are free without waiting (the first runs on the flushing
    /// thread); between passes it waits on a timer, 1 ms doubling to 16 ms, so a peer that takes
    /// nothing holds no thread. A peer that gives no window back within the peer timeout is given up,
    /// as a write that waits for one gives it up.
    /// </summary>
    private async Task<FlushResult> DrainBacklogAsync()
    {
        var waitingSince = Stopwatch.GetTimestamp();
        var delay = 1;
        try
        {
            while (true)
            {
                switch (DrainPass(out var progressed))
                {
                    case DrainStep.Drained:
                        return new FlushResult(isCanceled: false, isCompleted: false);
                    case DrainStep.Ended:
                        // The link's close sent the end of the stream, after what the backlog held.
                        return new FlushResult(isCanceled: false, isCompleted: true);
                    case DrainStep.WriterBusy:
                        // The link's close holds the writer while it sends the backlog and the end
                        // of the stream: not the peer's delay, so it does not count as one.
                        waitingSince = Stopwatch.GetTimestamp();
                        break;
                }

                if (progressed)
                {
                    waitingSince = Stopwatch.GetTimestamp();
                    delay = 1;
                }
                else if (_peerTimeout != Timeout.InfiniteTimeSpan && Stopwatch.GetElapsedTime(waitingSince) > _peerTimeout)
                {
                    // Not proof of malice (the peer may be stuck), but this side cannot wait for ever.
                    _windows[_next].Shutdown();
                    throw new RpcException(RpcStatusCode.Disconnected, $"The shared-memory peer did not hand control back within {_peerTimeout}; the window was shut down.");
                }

                await Task.Delay(delay).ConfigureAwait(false);
                delay = Math.Min(delay * 2, MaxDrainPollMilliseconds);
            }
        }
        catch (Exception ex)
        {
            // The link stops first, so no write lands behind the bytes dropped here.
            var error = _link.SendFailed(ex);
            lock (_backlogLock)
            {
                _drainRunning = false;
                _backlog.Clear();
            }

            throw error;
        }
    }

    private enum DrainStep
    {
        /// <summary>The backlog is empty and what it held is with the peer.</summary>
        Drained,

        /// <summary>Bytes wait for a window the peer still holds.</summary>
        Waiting,

        /// <summary>The link's close holds the writer (it sends the backlog itself, then the end of the stream).</summary>
        WriterBusy,

        /// <summary>The link's close has sent the end of the stream: nothing more goes out.</summary>
        Ended,
    }

    /// <summary>The drain's end once the close sent the end of the stream: what is left came after it and goes nowhere.</summary>
    private DrainStep Ended()
    {
        lock (_backlogLock)
        {
            _drainRunning = false;
            _backlog.Clear();
        }

        return DrainStep.Ended;
    }

    /// <summary>One pass of the drain, without waiting: fills windows from the backlog while the peer has given them back; <paramref name="progressed"/> when it took a window.</summary>
    private DrainStep DrainPass(out bool progressed)
    {
        progressed = false;
        if (_endSent)
        {
            // The close sent the backlog, then the end of the stream (the link may have stopped since).
            return Ended();
        }

        if (!_gate.TryEnter())
        {
            // Only the link's close (or its stop, for good) takes the gate while the backlog is active.
            return _link.IsStopped ? throw _link.ClosedError() : DrainStep.WriterBusy;
        }

        var released = false;
        try
        {
            if (_link.IsStopped)
            {
                throw _link.ClosedError();
            }

            if (_completed)
            {
                // The close ended the stream (or failed to, and the link is stopping).
                return Ended();
            }

            while (true)
            {
                var emptied = MoveBacklogIntoWindows(waitForWindows: false, out var tookWindow);
                progressed |= tookWindow;
                if (!emptied)
                {
                    return DrainStep.Waiting;
                }

                // What the flush covers is in windows: hand the part-filled one over, as a flush does.
                if (_holding && _written > 0)
                {
                    HandOver();
                }

                lock (_backlogLock)
                {
                    if (!_backlog.IsEmpty)
                    {
                        // Written while this pass handed over: one more round.
                        continue;
                    }

                    _drainRunning = false;
                    if (!_backlog.SpanOut && !_endRequested)
                    {
                        // Back to the windows. The gate goes first: a writer that sees the backlog
                        // inactive must find the gate free.
                        released = true;
                        _gate.Exit();
                        _backlogActive = false;
                    }

                    return DrainStep.Drained;
                }
            }
        }
        finally
        {
            if (!released)
            {
                _gate.Exit();
            }
        }
    }

    /// <summary>
    /// For the end of the stream (on its own thread, the gate held): waits for a write the protocol
    /// has in progress into the backlog, as a close waits for one into a window (at most the peer
    /// timeout, then the link fails), then moves the backlog into windows, waiting for each (bounded
    /// by the peer timeout).
    /// </summary>
    private void SendBacklogWaiting()
    {
        var spanWaitStarted = Stopwatch.GetTimestamp();
        lock (_backlogLock)
        {
            while (_backlog.SpanOut)
            {
                if (_link.IsStopped)
                {
                    throw _link.ClosedError();
                }

                if (_peerTimeout != Timeout.InfiniteTimeSpan && Stopwatch.GetElapsedTime(spanWaitStarted) > _peerTimeout)
                {
                    throw new RpcException(RpcStatusCode.Disconnected, "The protocol's write did not finish before the shared-memory link was closed.");
                }

                // The protocol's Advance (or its abandoning the span) pulses the lock; the slice
                // bounds how late a stop or the timeout is noticed.
                Monitor.Wait(_backlogLock, SpanWaitSlice);
            }
        }

        MoveBacklogIntoWindows(waitForWindows: true, out _);
    }

    /// <summary>
    /// Copies the backlog into windows in ring order (the gate held), handing over each that fills,
    /// until the backlog is empty (true) or, without <paramref name="waitForWindows"/>, the next window
    /// is still the peer's (false); with it, each take waits, bounded by the peer timeout.
    /// <paramref name="tookWindow"/> tells whether the peer had given a window back.
    /// </summary>
    private bool MoveBacklogIntoWindows(bool waitForWindows, out bool tookWindow)
    {
        tookWindow = false;
        while (true)
        {
            lock (_backlogLock)
            {
                if (_backlog.IsEmpty)
                {
                    return true;
                }

                if (_holding)
                {
                    _written += _backlog.CopyTo(_memories[_next].Memory.Span[_written..]);
                }
            }

            if (_holding)
            {
                if (_written == _capacity)
                {
                    HandOver();
                }

                continue;
            }

            if (waitForWindows)
            {
                Take();
            }
            else if (_windows[_next].TryAcquireControl(out _))
            {
                _holding = true;
                _written = 0;
            }
            else
            {
                return false;
            }

            tookWindow = true;
        }
    }

    /// <summary>Hands the held window with what is written to the peer and moves to the next one.</summary>
    private void HandOver()
    {
        var window = _windows[_next];
        var length = _written;
        _holding = false;
        _written = 0;
        _next = _next + 1 == _windows.Length ? 0 : _next + 1;
        window.HandOff(length);
        _link.OnDatagramSent();
    }

    /// <summary>Copies bytes served from the pooled buffer into windows, handing over each that fills.</summary>
    private void Spread(ReadOnlySpan<byte> bytes)
    {
        while (!bytes.IsEmpty)
        {
            if (!_holding && !TryTake())
            {
                // The peer holds every window: the rest waits in the backlog, in order.
                lock (_backlogLock)
                {
                    _backlogActive = true;
                    _backlog.Append(bytes);
                }

                Exit();
                return;
            }

            var chunk = Math.Min(bytes.Length, _capacity - _written);
            bytes[..chunk].CopyTo(_windows[_next].Data[_written..]);
            _written += chunk;
            bytes = bytes[chunk..];
            if (_written == _capacity)
            {
                HandOver();
            }
        }
    }

    private void ReleaseOverflow()
    {
        if (_overflow is { } overflow)
        {
            _overflow = null;
            ArrayPool<byte>.Shared.Return(overflow);
        }
    }

}
