using System.Buffers;
using RpcGen.Links;

namespace RpcGen.Transport.Message;

/// <summary>
/// The reader as a frame sink (<see cref="RpcLink.AttachFrameSink"/>), on links that offer one: the
/// link's draining thread calls it with the bytes it copied, and it runs the read loop's steps
/// (<see cref="ParseFrames"/>, <see cref="EndReadBatch"/>, the pause for room and the end of input)
/// synchronously, without the pipe and the async loop around each batch.
/// </summary>
internal sealed partial class MessageConnection : IRpcFrameSink
{
    // Whether a frame was handled since the last EndBatch (for keepalive). Touched only by the
    // thread the link delivers on, one at a time.
    private bool _sinkFramesCompleted;

    // Set once the sink stopped reading (a protocol error or failure is closing the connection).
    private volatile bool _sinkStopped;

    // The pending wait for room, shared by the link's waits until it completes.
    private Task? _roomWait;

    /// <summary>Reads through the link's frame sink when it has one, else through its input pipe.</summary>
    private Task StartReading()
    {
        if (!_link.SupportsFrameSink)
        {
            return ReadLoopAsync();
        }

        _link.AttachFrameSink(this);
        return Completion;
    }

    RpcFrameSinkStatus IRpcFrameSink.Receive(ReadOnlySequence<byte> received, out long consumed, out long nextFrameBytes)
    {
        if (_sinkStopped)
        {
            // A lane frame taken earlier in this drain (ahead of the ring's) stopped reading.
            consumed = 0;
            nextFrameBytes = 0;
            return RpcFrameSinkStatus.Stopped;
        }

        var batch = new ReadBatch(received);
        try
        {
            ParseFrames(ref batch);
        }
        catch (Exception ex)
        {
            consumed = 0;
            nextFrameBytes = 0;
            _sinkStopped = true;
            _ = EndSinkReadingAsync(endOfInput: null, failure: ex);
            return RpcFrameSinkStatus.Stopped;
        }

        _sinkFramesCompleted |= batch.FramesCompleted;
        consumed = received.Length - batch.Rest.Length;
        nextFrameBytes = batch.Paused ? 0 : FrameParser.DeclaredFrameBytes(batch.Rest);
        return batch.Paused ? RpcFrameSinkStatus.Paused : RpcFrameSinkStatus.Continue;
    }

    // Set while a frame from the link's call lane is parsed (on that one thread): a call it carries
    // answers on the lane too (see HandleCall).
    private bool _laneInbound;

    RpcFrameSinkStatus IRpcFrameSink.ReceiveLane(ReadOnlySequence<byte> frame)
    {
        if (_sinkStopped)
        {
            return RpcFrameSinkStatus.Stopped;
        }

        var batch = new ReadBatch(frame);
        _laneInbound = true;
        try
        {
            CheckLaneFrame(frame);
            ParseFrames(ref batch);
        }
        catch (Exception ex)
        {
            _sinkStopped = true;
            _ = EndSinkReadingAsync(endOfInput: null, failure: ex);
            return RpcFrameSinkStatus.Stopped;
        }
        finally
        {
            _laneInbound = false;
        }

        EndReadBatch(batch.FramesCompleted);

        // A peer that only ever calls on the lane and takes none of its answers must meet the same
        // backpressure as one that calls on the ring.
        return batch.Paused ? RpcFrameSinkStatus.Paused : RpcFrameSinkStatus.Continue;
    }

    /// <summary>The lane carries one whole two-way call or its answer, nothing else (a peer's lane bytes are as hostile as its ring's).</summary>
    private static void CheckLaneFrame(in ReadOnlySequence<byte> frame)
    {
        Span<byte> prefix = stackalloc byte[FrameHeader.Size];
        if (frame.Length < FrameHeader.Size || FrameParser.DeclaredFrameBytes(frame) != frame.Length)
        {
            throw new ProtocolViolation($"The call lane carried {frame.Length} bytes that are not one whole frame.");
        }

        frame.Slice(0, FrameHeader.Size).CopyTo(prefix);
        if ((FrameKind)prefix[2] is not (FrameKind.Request or FrameKind.Response or FrameKind.Error))
        {
            throw new ProtocolViolation($"The call lane carried a {(FrameKind)prefix[2]} frame; it carries calls and answers only.");
        }
    }

    void IRpcFrameSink.EndBatch()
    {
        EndReadBatch(_sinkFramesCompleted);
        _sinkFramesCompleted = false;
    }

    bool IRpcFrameSink.MustWait => ReaderMustWait && _closeReason is null;

    Task IRpcFrameSink.WaitForRoomAsync()
    {
        if (_roomWait is not { IsCompleted: false })
        {
            _roomWait = WaitForReaderRoomAsync().AsTask();
        }

        return _roomWait;
    }

    void IRpcFrameSink.Complete(long unconsumedBytes, Exception? error)
    {
        if (!_sinkStopped)
        {
            _sinkStopped = true;
            _ = error is null
                ? EndSinkReadingAsync(InputEnded(unconsumedBytes), failure: null)
                : EndSinkReadingAsync(endOfInput: null, error);
        }
    }

    /// <summary>As the read loop ends: the last answers go out after the peer closed its side; a failure is reported; then the connection closes.</summary>
    private async Task EndSinkReadingAsync(RpcException? endOfInput, Exception? failure)
    {
        RpcException reason;
        if (failure is not null)
        {
            reason = await ReadFailedAsync(failure).ConfigureAwait(false);
        }
        else
        {
            await WaitForQueuedCallsAsync().ConfigureAwait(false);
            reason = endOfInput!;
        }

        await CloseAsync(reason).ConfigureAwait(false);
    }
}
