using System.Buffers;
using System.Collections.Concurrent;
using System.Diagnostics;
using System.IO.Pipelines;
using RpcGen.Limits;
using RpcGen.Links;

namespace RpcGen.Transport.Message;

/// <summary>
/// The frames one connection built and has not handed to its link yet, and the drain that hands
/// them to the link, many frames at a time: a link that can send directly
/// (<see cref="RpcLink.CanSendDirect"/>, a plain socket) gets them as one gathered send straight from
/// the frame buffers; any other link gets them copied into its output pipe and one flush.
/// </summary>
/// <remarks>
/// Invariants:
/// <list type="bullet">
/// <item>Frames reach the link in the order they were queued: only the drainer dequeues, and there
/// is at most one drainer (<c>_draining</c> is 1 while one thread holds the role).</item>
/// <item>Only the drainer touches the link's output. The role is taken with a compare-exchange and
/// given up by <see cref="ReleaseDrainer"/>, which looks once more so that a frame queued just
/// before the release is never stranded without a drainer.</item>
/// <item>A frame's <see cref="FrameBuffer.HeldBytes"/> count in <see cref="HeldBytes"/> (and in the
/// server-wide budget) from the moment it is queued until the flush or direct send that handed it
/// to the link has completed, so bytes parked behind a peer that does not read still count. A frame
/// sent directly goes back to the pool only then: until the send completed, the link reads its buffer.
/// Every drop of the count wakes <see cref="Room"/>.</item>
/// <item>Once <see cref="TakeOverForCloseAsync"/> took the role, it is never given back: writers see
/// the connection's close reason and stop queueing, and what is left is written once by
/// <see cref="WriteRemainingToLink"/>, always through the link's output pipe: no direct send is in
/// flight then (the drainer role is held), so the pipe cannot overtake one.</item>
/// </list>
/// Lock order: no locks. The queue is lock-free and the role is a flag; a link failure is handed to
/// the connection's close on the thread pool, never run under the drain.
/// </remarks>
internal sealed class Outbox : IThreadPoolWorkItem
{
    private readonly MessageConnection _connection;
    private readonly RpcLink _link;
    private readonly PipeWriter _output;

    // Direct sends only, touched by the drainer alone: the frames of the send in flight (returned
    // to the pool when it completed) and their byte ranges, lists reused from send to send.
    private readonly bool _sendsDirect;
    private readonly List<FrameBuffer> _sending = new();
    private readonly List<ArraySegment<byte>> _segments = new();

    // Direct sends only, drainer alone: the buffer the small frames of the send in flight were
    // copied into (rented per send, null between sends), how much of it is used, whether the last
    // range of _segments is its tail (so the next small frame extends that range), and the held
    // bytes of the whole batch, copied frames included, which count until the send completed.
    private byte[]? _coalesced;
    private int _coalescedUsed;
    private bool _lastRangeIsCoalesced;
    private long _sendingHeld;
    private readonly ConcurrentQueue<FrameBuffer> _frames = new();

    // Server connections only (null on clients): the server-wide count, and the rule for when the
    // reader stops. A client's reader never stops: if both ends stopped reading while each had more
    // than its limit queued for the other (a burst of large calls), neither would ever resume.
    private readonly OutboundBudget? _budget;

    // 1 while one thread (the drainer) moves frames into the link and flushes.
    private int _draining;

    // The held bytes of the frames queued and not yet flushed (see the invariants).
    private long _heldBytes;

    public Outbox(MessageConnection connection, RpcLink link, OutboundBudget? budget)
    {
        _connection = connection;
        _link = link;
        _output = link.Output;
        _sendsDirect = link.CanSendDirect;
        _budget = budget;
    }

    /// <summary>Wakes writers waiting for room, the reader paused for the budget, and calls parked for it.</summary>
    public RoomSignal Room { get; } = new();

    /// <summary>The bytes queued frames hold now (see the invariants).</summary>
    public long HeldBytes => Volatile.Read(ref _heldBytes);

    /// <summary>Whether nothing is queued.</summary>
    public bool IsEmpty => _frames.IsEmpty;

    /// <summary>Whether the reader must stop reading because the peer does not take what it is sent (server connections only).</summary>
    public bool ReaderMustPause => _budget?.ShouldPause(Volatile.Read(ref _heldBytes)) == true;

    /// <summary>Counts <paramref name="frame"/> against this connection and the server and queues it; returns this connection's new total.</summary>
    public long Enqueue(FrameBuffer frame)
    {
        var held = frame.HeldBytes;
        _budget?.Add(held);
        var total = Interlocked.Add(ref _heldBytes, held);
        _frames.Enqueue(frame);
        return total;
    }

    /// <summary>Takes the drainer role if nobody holds it; the caller then drains (<see cref="Drain"/>, <see cref="DrainLater"/>).</summary>
    public bool TryBecomeDrainer() => Interlocked.CompareExchange(ref _draining, 1, 0) == 0;

    /// <summary>Drains from the back of the thread pool's queue; the caller holds the drainer role, which passes to that work item.</summary>
    public void DrainLater() => ThreadPool.UnsafeQueueUserWorkItem(this, preferLocal: false);

    /// <summary>Runs a drain handed to the thread pool by <see cref="DrainLater"/>.</summary>
    void IThreadPoolWorkItem.Execute() => DrainInBackground();

    /// <summary>Sends every queued frame unless a drainer is already doing it; nobody waits for the send.</summary>
    public void Flush()
    {
        if (!_frames.IsEmpty && TryBecomeDrainer())
        {
            DrainInBackground();
        }
    }

    /// <summary>Sends every queued frame, unless a drainer is already doing it.</summary>
    public ValueTask FlushAsync() =>
        _frames.IsEmpty || !TryBecomeDrainer() ? default : Drain();

    private void DrainInBackground()
    {
        var drain = Drain();
        if (!drain.IsCompletedSuccessfully)
        {
            _ = MessageConnection.IgnoreFailure(drain);
        }
    }

    /// <summary>Hands queued frames to the link until none are left; the caller holds the drainer role.</summary>
    public ValueTask Drain() => _sendsDirect ? DrainDirect() : DrainThroughPipe();

    /// <summary>Sends queued frames straight from their buffers, one gathered send per batch, until none are left.</summary>
    private ValueTask DrainDirect()
    {
        try
        {
            while (true)
            {
                var gathered = GatherForSend();
                if (gathered > 0)
                {
                    var send = _link.SendDirectAsync(_segments);
                    if (!send.IsCompletedSuccessfully)
                    {
                        return DrainDirectSlowAsync(send, gathered);
                    }

                    FinishSend(gathered);
                }

                if (_frames.IsEmpty && !ReleaseDrainer())
                {
                    return default;
                }
            }
        }
        catch (Exception ex) when (ex is not OutOfMemoryException)
        {
            return ValueTask.FromException(FailDirectSend(ex));
        }
    }

    private async ValueTask DrainDirectSlowAsync(ValueTask pending, long gathered)
    {
        try
        {
            await pending.ConfigureAwait(false);
            FinishSend(gathered);
            while (!_frames.IsEmpty || ReleaseDrainer())
            {
                gathered = GatherForSend();
                if (gathered > 0)
                {
                    await _link.SendDirectAsync(_segments).ConfigureAwait(false);
                    FinishSend(gathered);
                }
            }
        }
        catch (Exception ex) when (ex is not OutOfMemoryException)
        {
            throw FailDirectSend(ex);
        }
    }

    // Bounds of one gathered send: a system call takes at most 1024 byte ranges on Linux, and a
    // bounded batch stops counting its bytes as soon as it is sent instead of after everything queued.
    private const int MaxRangesPerSend = 256;
    private const long MaxBytesPerSend = 1024 * 1024;

    // Small frames sent together are copied back to back into one rented buffer and leave as one
    // range, and go back to the frame pool at once: the socket pins and describes each range to the
    // kernel separately, which costs more than copying a few hundred bytes. A frame sent alone, or a
    // large one, is sent from its own buffer.
    private const int CopyUpToBytes = 2048;
    private const int CoalesceBytes = 32 * 1024;

    /// <summary>Dequeues the next batch of frames into the send lists; returns their held bytes (0 when nothing was queued).</summary>
    private long GatherForSend()
    {
        var held = 0L;
        var bytes = 0L;
        while (_segments.Count < MaxRangesPerSend && bytes < MaxBytesPerSend && _frames.TryDequeue(out var frame))
        {
            held += frame.HeldBytes;
            var copied = true;
            if (frame.Leading is { } leading)
            {
                copied = AddRange(leading.WrittenSegment, moreFollows: true);
                bytes += leading.WrittenSegment.Count;
            }

            copied &= AddRange(frame.WrittenSegment, moreFollows: !_frames.IsEmpty);
            bytes += frame.WrittenSegment.Count;
            if (copied)
            {
                FrameBuffer.Return(frame);
            }
            else
            {
                _sending.Add(frame);
            }
        }

        _sendingHeld = held;
        return held;
    }

    /// <summary>Adds one frame's bytes to the send; returns true when they were copied (the frame's buffer is free).</summary>
    private bool AddRange(ArraySegment<byte> range, bool moreFollows)
    {
        if (range.Count <= CopyUpToBytes && (_lastRangeIsCoalesced || moreFollows) && _coalescedUsed + range.Count <= CoalesceBytes)
        {
            _coalesced ??= ArrayPool<byte>.Shared.Rent(CoalesceBytes);
            range.AsSpan().CopyTo(_coalesced.AsSpan(_coalescedUsed));
            if (_lastRangeIsCoalesced)
            {
                var last = _segments[^1];
                _segments[^1] = new ArraySegment<byte>(_coalesced, last.Offset, last.Count + range.Count);
            }
            else
            {
                _segments.Add(new ArraySegment<byte>(_coalesced, _coalescedUsed, range.Count));
            }

            _coalescedUsed += range.Count;
            _lastRangeIsCoalesced = true;
            return true;
        }

        _segments.Add(range);
        _lastRangeIsCoalesced = false;
        return false;
    }

    /// <summary>The link took the batch: its buffers go back to the pool and its bytes stop counting.</summary>
    private void FinishSend(long gathered)
    {
        ReturnSending();
        Unhold(gathered);
    }

    private void ReturnSending()
    {
        foreach (var frame in _sending)
        {
            FrameBuffer.Return(frame);
        }

        _sending.Clear();
        _segments.Clear();
        _lastRangeIsCoalesced = false;
        _coalescedUsed = 0;
        _sendingHeld = 0;
        if (_coalesced is { } coalesced)
        {
            _coalesced = null;
            ArrayPool<byte>.Shared.Return(coalesced);
        }
    }

    private RpcException FailDirectSend(Exception ex)
    {
        var held = _sendingHeld;
        ReturnSending();
        Unhold(held);
        Volatile.Write(ref _draining, 0);
        return _connection.OnLinkFailed(ex);
    }

    /// <summary>Copies queued frames into the link's output pipe and flushes until none are left.</summary>
    private ValueTask DrainThroughPipe()
    {
        var moved = 0L;
        try
        {
            while (true)
            {
                moved = MoveToLink();
                var flush = _output.FlushAsync();
                if (!flush.IsCompletedSuccessfully)
                {
                    var slow = DrainSlowAsync(flush, moved);
                    moved = 0;
                    return slow;
                }

                Unhold(moved);
                moved = 0;
                ThrowIfLinkClosed(flush.Result);
                if (!ReleaseDrainer())
                {
                    return default;
                }
            }
        }
        catch (Exception ex) when (ex is not OutOfMemoryException)
        {
            Unhold(moved);
            Volatile.Write(ref _draining, 0);
            return ValueTask.FromException(_connection.OnLinkFailed(ex));
        }
    }

    private async ValueTask DrainSlowAsync(ValueTask<FlushResult> pending, long moved)
    {
        try
        {
            var flushed = await pending.ConfigureAwait(false);
            Unhold(moved);
            moved = 0;
            ThrowIfLinkClosed(flushed);
            while (ReleaseDrainer())
            {
                moved = MoveToLink();
                flushed = await _output.FlushAsync().ConfigureAwait(false);
                Unhold(moved);
                moved = 0;
                ThrowIfLinkClosed(flushed);
            }
        }
        catch (Exception ex) when (ex is not OutOfMemoryException)
        {
            Unhold(moved);
            Volatile.Write(ref _draining, 0);
            throw _connection.OnLinkFailed(ex);
        }
    }

    /// <summary>Copies every queued frame into the link; returns the held bytes moved, which stay counted until their flush completes.</summary>
    private long MoveToLink()
    {
        var moved = 0L;
        while (_frames.TryDequeue(out var frame))
        {
            try
            {
                moved += frame.HeldBytes;
                WriteToLink(frame);
            }
            finally
            {
                FrameBuffer.Return(frame);
            }
        }

        return moved;
    }

    /// <summary>Copies one queued frame (and the frame it leads with, if any) into the link's output.</summary>
    private void WriteToLink(FrameBuffer frame)
    {
        if (frame.Leading is { } leading)
        {
            _output.Write(leading.WrittenSpan);
        }

        _output.Write(frame.WrittenSpan);
    }

    /// <summary>Stops counting bytes the link has taken, and wakes writers and the reader that wait for room.</summary>
    private void Unhold(long bytes)
    {
        if (bytes == 0)
        {
            return;
        }

        _budget?.Add(-bytes);
        Interlocked.Add(ref _heldBytes, -bytes);

        // Each waiter re-checks its own condition (its limit, or the reader's budget rule).
        Room.Notify();
    }

    /// <summary>
    /// Gives up the drainer role; returns true when the caller must drain again because a frame
    /// was queued after the last look and its writer left it to us.
    /// </summary>
    private bool ReleaseDrainer()
    {
        Volatile.Write(ref _draining, 0);
        return !_frames.IsEmpty && TryBecomeDrainer();
    }

    private void ThrowIfLinkClosed(FlushResult result)
    {
        if (result.IsCompleted || result.IsCanceled)
        {
            throw new RpcException(RpcStatusCode.Disconnected, $"The connection to {_connection.Peer} is closed.");
        }
    }

    /// <summary>
    /// Takes the drainer role for good, so no writer touches the link while it closes. A drainer
    /// stuck flushing into a dead link is released by aborting <paramref name="link"/>.
    /// </summary>
    public async Task TakeOverForCloseAsync(RpcLink link)
    {
        var waitingSince = Stopwatch.GetTimestamp();
        while (!TryBecomeDrainer())
        {
            if (Stopwatch.GetElapsedTime(waitingSince) > TimeSpan.FromSeconds(2))
            {
                link.Abort();
                break;
            }

            await Task.Yield();
        }

        Room.Notify();
    }

    /// <summary>
    /// After <see cref="TakeOverForCloseAsync"/>: writes what is still queued into the link, which
    /// flushes it as it closes; once the link refuses one frame, the rest are dropped.
    /// </summary>
    public void WriteRemainingToLink()
    {
        var linkTakesFrames = true;
        while (_frames.TryDequeue(out var queued))
        {
            try
            {
                if (linkTakesFrames)
                {
                    WriteToLink(queued);
                }
            }
            catch (Exception ex) when (ex is InvalidOperationException or IOException or ObjectDisposedException)
            {
                linkTakesFrames = false;
            }
            finally
            {
                Unhold(queued.HeldBytes);
                FrameBuffer.Return(queued);
            }
        }
    }
}
