using System.Buffers;
using System.IO.Pipelines;
using System.Threading.Tasks.Sources;

namespace RpcGen.Transport.Flow;

/// <summary>
/// The one loop that writes a connection's frames to its link (v23's write queue).
/// </summary>
/// <remarks>
/// Invariants: control frames (setup, release, reset, ping, teardown) always go before any flow
/// data; flow data goes out one chunk (at most an MTU) per flow in turn, because a flow's pump
/// offers its next chunk only after the previous one was written, so a busy flow re-queues behind
/// every flow that became ready meanwhile (round-robin). A flow's Open frame is the first of its
/// chunks to be written, and this loop gives a locally opened flow its id as it writes that Open,
/// so ids reach the peer in increasing order; a reset of a flow whose Open was never written is
/// not sent at all.
/// Threads: a pump's chunk wakes an idle loop inline on the pump's thread, and a written chunk
/// resumes its pump inline here; control frames (queued under the gate or by the reader loop) wake
/// the loop on the thread pool, so the loop never runs under the gate or on the reader loop.
/// Lock order: the connection's gate, then <see cref="_queueLock"/>; nothing is called while
/// holding <see cref="_queueLock"/>. <see cref="Flow.OpenWritten"/> is written only by this loop.
/// </remarks>
internal sealed class FlowWriter
{
    private const int FlushEveryBytes = 256 * 1024;

    // Control frames queued and not yet written. A peer that sends pings (each answered by a pong)
    // but does not read would grow this queue without end; past the bound the connection closes.
    private const int MaxQueuedControlFrames = 4096;

    private readonly object _queueLock = new();
    private readonly Queue<ControlItem> _control = new();
    private readonly Queue<DataChunk> _data = new();
    private readonly WriterWake _wake = new();
    private readonly FlowConnection _connection;
    private readonly PipeWriter _output;

    // Set once by Complete: the loop writes what control frames remain, then stops. Under _queueLock.
    private bool _completing;

    // Counts frames written, by kind class; for fairness tests and diagnostics. Loop only.
    private long _framesWritten;

    public FlowWriter(FlowConnection connection, PipeWriter output)
    {
        _connection = connection;
        _output = output;
    }

    /// <summary>Frames written so far.</summary>
    public long FramesWritten => Volatile.Read(ref _framesWritten);

    /// <summary>Queues a whole control frame.</summary>
    public void SendControl(byte[] frame) => Enqueue(new ControlItem(frame, null, false));

    /// <summary>Queues a reset of <paramref name="flow"/>; dropped if the flow's Open was never written.</summary>
    public void SendReset(Flow flow, string reason) => Enqueue(new ControlItem(null, flow, false) { Reason = reason });

    /// <summary>Queues a release frame, built from the connection's pending credit when it is written.</summary>
    public void SendRelease() => Enqueue(new ControlItem(null, null, true));

    private void Enqueue(ControlItem item)
    {
        bool overflow;
        lock (_queueLock)
        {
            if (_completing)
            {
                return;
            }

            overflow = _control.Count >= MaxQueuedControlFrames;
            if (!overflow)
            {
                _control.Enqueue(item);
            }
        }

        if (overflow)
        {
            _connection.Terminate(new FlowException(FlowErrorCode.Network, $"The flow connection to {_connection.RemoteAddress} closed: {MaxQueuedControlFrames} control frames wait to be written (the peer sends but does not read)."), sendTearDown: false);
            return;
        }

        _wake.Set(inline: false);
    }

    /// <summary>
    /// Queues one chunk of <paramref name="flow"/>'s bytes; completes once they are copied to the
    /// link, or fails when the connection or the flow ended first.
    /// </summary>
    public Task SendDataAsync(Flow flow, ReadOnlySequence<byte> payload, FlowFrameFlags flags)
    {
        var chunk = new DataChunk(flow, payload, flags);
        lock (_queueLock)
        {
            if (_completing)
            {
                return Task.FromException(_connection.CloseReason ?? new FlowException(FlowErrorCode.Aborted, "The connection is closed."));
            }

            // Read under the lock, so a pump descheduled before it queues does not count the frames
            // other flows wrote meanwhile as its wait.
            chunk.QueuedAt = Volatile.Read(ref _framesWritten);
            _data.Enqueue(chunk);
        }

        // Only pumps send data, and a pump runs on the thread pool (or inline on this loop) with no
        // lock held and no user code below it: an idle loop resumes right here on the pump's thread
        // and writes the chunk, saving a thread-pool hop per chunk. Control frames come from the
        // reader loop and under the gate, so those wake the loop on the thread pool instead.
        _wake.Set(inline: true);
        return chunk.Written.Task;
    }

    /// <summary>Queues <paramref name="lastFrame"/> (if any) as the last frame, then stops the loop.</summary>
    public void Complete(byte[]? lastFrame)
    {
        lock (_queueLock)
        {
            if (_completing)
            {
                return;
            }

            if (lastFrame is not null)
            {
                _control.Enqueue(new ControlItem(lastFrame, null, false));
            }

            _completing = true;
        }

        _wake.Set(inline: false);
    }

    /// <summary>Runs the loop until <see cref="Complete"/> or a write fails.</summary>
    public async Task RunAsync()
    {
        await Task.Yield();
        try
        {
            while (true)
            {
                await _wake.WaitAsync().ConfigureAwait(false);
                var unflushed = 0L;
                while (TryTake(out var control, out var chunk, out var stop))
                {
                    unflushed += control is not null ? WriteControl(control) : WriteData(chunk!);
                    if (unflushed >= FlushEveryBytes)
                    {
                        unflushed = 0;
                        await FlushAsync().ConfigureAwait(false);
                    }

                    if (stop)
                    {
                        break;
                    }
                }

                if (unflushed > 0)
                {
                    await FlushAsync().ConfigureAwait(false);
                }

                lock (_queueLock)
                {
                    if (_completing && _control.Count == 0)
                    {
                        break;
                    }
                }
            }
        }
        catch (Exception ex)
        {
            _connection.Terminate(new FlowException(FlowErrorCode.Network, $"Writing to {_connection.RemoteAddress} failed: {ex.Message}", ex), sendTearDown: false);
        }
        finally
        {
            FailPendingData();
        }
    }

    private async ValueTask FlushAsync()
    {
        var flushed = await _output.FlushAsync().ConfigureAwait(false);
        if (flushed.IsCompleted || flushed.IsCanceled)
        {
            throw new FlowException(FlowErrorCode.Network, "The link stopped accepting bytes.");
        }
    }

    private bool TryTake(out ControlItem? control, out DataChunk? chunk, out bool stop)
    {
        lock (_queueLock)
        {
            stop = false;
            chunk = null;
            if (_control.TryDequeue(out control))
            {
                return true;
            }

            if (_completing)
            {
                stop = true;
                return false;
            }

            return _data.TryDequeue(out chunk);
        }
    }

    private int WriteControl(ControlItem item)
    {
        if (item.IsRelease)
        {
            return _connection.WritePendingRelease(_output, ref _framesWritten);
        }

        var frame = item.Frame;
        if (item.ResetOf is { } flow)
        {
            if (!flow.OpenWritten)
            {
                // The peer never heard of this flow: nothing to reset there.
                _connection.OnResetNotSent(flow);
                return 0;
            }

            // Built here: a flow this side opened has its id only once its Open was written.
            frame = FlowFrames.BuildReset(flow.Id, item.Reason!);
        }

        _output.Write(frame);
        _framesWritten++;
        return frame!.Length;
    }

    private int WriteData(DataChunk chunk)
    {
        var flow = chunk.Flow;
        if (flow.IsResetLocally)
        {
            chunk.Written.TrySetException(new FlowException(FlowErrorCode.Aborted, "The flow was reset."));
            return 0;
        }

        var kind = flow.OpenWritten ? FlowFrameKind.Data : FlowFrameKind.Open;
        if (!flow.OpenWritten)
        {
            _connection.AssignId(flow);
            flow.OpenWritten = true;
        }

        var length = (int)chunk.Payload.Length;
        FlowFrames.WriteHeader(_output.GetSpan(FlowFrames.HeaderSize), new FlowFrameHeader(kind, chunk.Flags, flow.Id, length));
        _output.Advance(FlowFrames.HeaderSize);
        foreach (var segment in chunk.Payload)
        {
            _output.Write(segment.Span);
        }

        flow.MaxFramesWaited = Math.Max(flow.MaxFramesWaited, _framesWritten - chunk.QueuedAt);
        _framesWritten++;
        flow.FramesWritten++;
        if ((chunk.Flags & FlowFrameFlags.End) != 0)
        {
            _connection.OnLocalEndWritten(flow);
        }

        // Last: this runs the pump's continuation inline (see DataChunk.Written).
        chunk.Written.TrySetResult();

        return FlowFrames.HeaderSize + length;
    }

    private void FailPendingData()
    {
        DataChunk[] pending;
        lock (_queueLock)
        {
            _completing = true;
            pending = [.. _data];
            _data.Clear();
            _control.Clear();
        }

        var reason = _connection.CloseReason ?? new FlowException(FlowErrorCode.Aborted, "The connection is closed.");
        foreach (var chunk in pending)
        {
            chunk.Written.TrySetException(reason);
        }
    }

    /// <summary>
    /// Wakes the loop (one waiter): a set while the loop runs is remembered, and the waker chooses
    /// whether the waiting loop resumes on its thread or on the thread pool.
    /// </summary>
    private sealed class WriterWake : IValueTaskSource
    {
        private const int Idle = 0;
        private const int Signaled = 1;
        private const int Waiting = 2;

        private ManualResetValueTaskSourceCore<bool> _core;
        private int _state;

        public ValueTask WaitAsync()
        {
            if (Interlocked.CompareExchange(ref _state, Idle, Signaled) == Signaled)
            {
                return default;
            }

            // Reset before the state says Waiting, so a waker never completes a stale version.
            _core.Reset();
            if (Interlocked.CompareExchange(ref _state, Waiting, Idle) != Idle)
            {
                // Set in between: the state is Signaled; take it.
                Volatile.Write(ref _state, Idle);
                return default;
            }

            return new ValueTask(this, _core.Version);
        }

        public void Set(bool inline)
        {
            while (true)
            {
                var state = Volatile.Read(ref _state);
                if (state == Signaled || (state == Idle && Interlocked.CompareExchange(ref _state, Signaled, Idle) == Idle))
                {
                    return;
                }

                if (state == Waiting && Interlocked.CompareExchange(ref _state, Idle, Waiting) == Waiting)
                {
                    _core.RunContinuationsAsynchronously = !inline;
                    _core.SetResult(true);
                    return;
                }
            }
        }

        void IValueTaskSource.GetResult(short token) => _core.GetResult(token);

        ValueTaskSourceStatus IValueTaskSource.GetStatus(short token) => _core.GetStatus(token);

        void IValueTaskSource.OnCompleted(Action<object?> continuation, object? state, short token, ValueTaskSourceOnCompletedFlags flags) =>
            _core.OnCompleted(continuation, state, token, flags);
    }

    private sealed record ControlItem(byte[]? Frame, Flow? ResetOf, bool IsRelease)
    {
        public string? Reason { get; init; }
    }

    private sealed class DataChunk(Flow flow, ReadOnlySequence<byte> payload, FlowFrameFlags flags)
    {
        public Flow Flow { get; } = flow;

        public ReadOnlySequence<byte> Payload { get; } = payload;

        public FlowFrameFlags Flags { get; } = flags;

        // The connection's frame count when the chunk was queued: what it waited is counted in frames, not time.
        public long QueuedAt { get; set; }

        // Completed inline on the writer loop, deliberately: the pump's continuation (advance the
        // outbound pipe, take credit, queue the next chunk) is short internal code that never runs
        // user code (the outbound pipe resumes user writers on the thread pool), and running it here
        // lets the loop write the next chunk in the same pass and flush a batch, instead of flushing
        // each chunk alone and waiting a thread-pool hop for the pump. The next chunk still queues
        // behind every chunk already waiting, so the round-robin is unchanged.
        public TaskCompletionSource Written { get; } = new(TaskCreationOptions.None);
    }
}
