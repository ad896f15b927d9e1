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
