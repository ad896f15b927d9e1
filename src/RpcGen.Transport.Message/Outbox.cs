using System.Buffers;
using System.Collections.Concurrent;
using System.Diagnostics;
using System.IO.Pipelines;
using RpcGen.Limits;
using RpcGen.Links;

namespace RpcGen.Transport.Message;

/// <summary>
/// The frames one connection built and has not handed to its link yet, and the drain that copies
/// them into the link and flushes, many frames to one flush.
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
/// server-wide budget) from the moment it is queued until the flush that handed it to the link has
/// completed, so bytes parked in the link's pipe behind a peer that does not read still count.
/// Every drop of the count wakes <see cref="Room"/>.</item>
/// <item>Once <see cref="TakeOverForCloseAsync"/> took the role, it is never given back: writers see
/// the connection's close reason and stop queueing, and what is left is written once by
/// <see cref="WriteRemainingToLink"/>.</item>
/// </list>
/// Lock order: no locks. The queue is lock-free and the role is a flag; a link failure is handed to
/// the connection's close on the thread pool, never run under the drain.
/// </remarks>
internal sealed class Outbox : IThreadPoolWorkItem
{
    private readonly MessageConnection _connection;
    private readonly PipeWriter _output;
    private readonly ConcurrentQueue<FrameBuffer> _frames = new();

    // Server connections only (null on clients): the server-wide count, and the rule for when the
    // reader stops. A client's reader never stops: if both ends stopped reading while each had more
    // than its limit queued for the other (a burst of large calls), neither would ever resume.
    private readonly OutboundBudget? _budget;

    // 1 while one thread (the drainer) moves frames into the link and flushes.
    private int _draining;

    // The held bytes of the frames queued and not yet flushed (see the invariants).
    private long _heldBytes;

    public Outbox(MessageConnection connection, PipeWriter output, OutboundBudget? budget)
    {
        _connection = connection;
        _output = output;
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

    /// <summary>Copies queued frames into the link and flushes until none are left; the caller holds the drainer role.</summary>
    public ValueTask Drain()
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
