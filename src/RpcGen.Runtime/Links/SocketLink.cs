using System.Buffers;
using System.IO.Pipelines;
using System.Net.Sockets;
using System.Runtime.InteropServices;

namespace RpcGen.Links;

/// <summary>
/// A TCP or Unix-domain socket as an <see cref="RpcLink"/>: one loop moves received bytes into the
/// input pipe, another sends whatever the protocol has written to the output pipe. Because the
/// sender takes everything written since its last send, many small frames from concurrent callers
/// go out in one system call. A protocol that keeps its own frame buffers may skip the output pipe
/// and its copy: <see cref="SendDirectAsync"/> sends them as they are, in one gathered send.
/// </summary>
internal sealed class SocketLink : RpcLink
{
    // Receives ask the pipe for a large buffer only after a receive filled the one before (a bulk
    // transfer); otherwise for a small one, which the pipe serves from the free tail of the segment
    // it is filling. Memory held for a partly received frame thus stays proportional to the bytes
    // received: a peer dripping one byte per segment pins one byte each, not a fresh 32 KiB buffer.
    private const int BulkReceiveBuffer = 32 * 1024;
    private const int SmallReceiveBuffer = 512;

    private readonly Socket _socket;
    private readonly Pipe _inbound;
    private readonly Pipe _outbound;
    private readonly Task _receiving;
    private readonly Task _sending;

    // Reused by the sender (one send at a time) for gathered sends.
    private readonly List<ArraySegment<byte>> _gather = new();
    private int _aborted;

    /// <summary>The most bytes the outbound pipe holds before a protocol's flush waits for the socket.</summary>
    internal const int MaxOutboundPipeBytes = 1024 * 1024;

    public SocketLink(Socket socket, string localAddress, string remoteAddress, int maxPendingBytes, RpcGen.Security.RpcPeerIdentity? peerIdentity = null)
    {
        _socket = socket;
        PeerIdentity = peerIdentity;
        LocalAddress = localAddress;
        RemoteAddress = remoteAddress;
        if (socket.ProtocolType == ProtocolType.Tcp)
        {
            socket.NoDelay = true;
        }

        // Both pipes hand over inline: the protocol parses on the receiving thread, and the send
        // system call runs on the thread that flushes. That saves a thread hop each way on every
        // round trip. Protocols must therefore not flush while holding a lock other writers need;
        // the message protocol lets one writer drain everyone's frames (see MessageConnection).
        _inbound = new Pipe(new PipeOptions(
            pauseWriterThreshold: maxPendingBytes,
            resumeWriterThreshold: maxPendingBytes / 2,
            readerScheduler: PipeScheduler.Inline,
            writerScheduler: PipeScheduler.Inline,
            useSynchronizationContext: false));
        // The outbound pipe is only a hand-off to the send loop: protocols keep (and count) what
        // they queue themselves, so a peer that does not read stops them after a small buffer here.
        var outboundPause = Math.Min(maxPendingBytes, MaxOutboundPipeBytes);
        _outbound = new Pipe(new PipeOptions(
            pauseWriterThreshold: outboundPause,
            resumeWriterThreshold: outboundPause / 2,
            readerScheduler: PipeScheduler.Inline,
            writerScheduler: PipeScheduler.Inline,
            useSynchronizationContext: false));
        _receiving = ReceiveLoopAsync();
        _sending = SendLoopAsync();
    }

    public override PipeReader Input => _inbound.Reader;

    public override PipeWriter Output => _outbound.Writer;

    public override string LocalAddress { get; }

    public override string RemoteAddress { get; }

    public override RpcGen.Security.RpcPeerIdentity? PeerIdentity { get; }

    /// <summary>A plain socket takes a protocol's buffers as they are: no framing or encryption of its own.</summary>
    public override bool CanSendDirect => true;

    public override ValueTask SendDirectAsync(IList<ArraySegment<byte>> segments)
    {
        try
        {
            if (segments.Count == 1)
            {
                // One frame (a lone caller): the memory overload completes without allocating.
                var send = SendAllAsync(segments[0]);
                return send.IsCompletedSuccessfully ? default : FailOnErrorAsync(send);
            }

            return segments.Count == 0 ? default : FailOnErrorAsync(SendListAsync(segments));
        }
        catch (Exception ex) when (ex is SocketException or ObjectDisposedException)
        {
            return ValueTask.FromException(OnDirectSendFailed(ex));
        }
    }

    private async ValueTask SendListAsync(IList<ArraySegment<byte>> segments)
    {
        var total = 0L;
        foreach (var segment in segments)
        {
            total += segment.Count;
        }

        var sent = await _socket.SendAsync(segments, SocketFlags.None).ConfigureAwait(false);
        if (sent < total)
        {
            // A partial gathered send (a stream socket's async send normally takes all): finish
            // the rest segment by segment.
            foreach (var segment in segments)
            {
                if (sent >= segment.Count)
                {
                    sent -= segment.Count;
                    continue;
                }

                await SendAllAsync(segment.AsMemory((int)sent)).ConfigureAwait(false);
                sent = 0;
            }
        }
    }

    private async ValueTask FailOnErrorAsync(ValueTask send)
    {
        try
        {
            await send.ConfigureAwait(false);
        }
        catch (Exception ex) when (ex is SocketException or ObjectDisposedException)
        {
            throw OnDirectSendFailed(ex);
        }
    }

    private RpcException OnDirectSendFailed(Exception ex)
    {
        // As the send loop does: the peer is gone, so make the receiver notice even if the peer
        // never closes its side, and give the writer the transport's error type.
        _socket.Dispose();
        return Volatile.Read(ref _aborted) != 0
            ? new RpcException(RpcStatusCode.Disconnected, "The link was aborted.")
            : new RpcException(RpcStatusCode.Disconnected, $"Sending to {RemoteAddress} failed: {ex.Message}", ex);
    }

    public override void Abort()
    {
        if (Interlocked.Exchange(ref _aborted, 1) != 0)
        {
            return;
        }

        // Only wake the loops; each completes its own pipe end as it exits.
        _socket.Dispose();
        _inbound.Writer.CancelPendingFlush();
        _outbound.Reader.CancelPendingRead();
    }

    public override async ValueTask DisposeAsync()
    {
        // Completing our end of the outbound pipe lets the sender drain what is buffered and then
        // shut down the send side; the peer sees end of stream after the last frame.
        await _outbound.Writer.CompleteAsync().ConfigureAwait(false);
        await _sending.ConfigureAwait(false);
        _socket.Dispose();

        // The receiver may be parked on a full inbound pipe; release it. The protocol that owns
        // Input sees the end of the stream and completes the reader itself.
        _inbound.Writer.CancelPendingFlush();
        await _receiving.ConfigureAwait(false);
    }

    /// <summary>Completing the outbound pipe makes the send loop send what is left, then end the stream (see <see cref="SendLoopAsync"/>).</summary>
    private protected override async ValueTask<bool> EndOutputAsync(CancellationToken cancellationToken)
    {
        await _outbound.Writer.CompleteAsync().ConfigureAwait(false);
        await _sending.WaitAsync(cancellationToken).ConfigureAwait(false);
        return true;
    }

    private async Task ReceiveLoopAsync()
    {
        await Task.Yield();
        Exception? error = null;
        var writer = _inbound.Writer;
        var sizeHint = SmallReceiveBuffer;
        try
        {
            while (true)
            {
                var memory = writer.GetMemory(sizeHint);
                var received = await _socket.ReceiveAsync(memory, SocketFlags.None).ConfigureAwait(false);
                if (received == 0)
                {
                    break;
                }

                sizeHint = received == memory.Length ? BulkReceiveBuffer : SmallReceiveBuffer;
                writer.Advance(received);
                var flush = await writer.FlushAsync().ConfigureAwait(false);
                if (flush.IsCompleted || flush.IsCanceled)
                {
                    break;
                }
            }
        }
        catch (Exception ex)
        {
            // Whatever stops the loop, the protocol reading Input must see the end of the stream;
            // an exception that escaped here would leave it waiting for good.
            error = Volatile.Read(ref _aborted) != 0
                ? new RpcException(RpcStatusCode.Disconnected, "The link was aborted.")
                : new RpcException(RpcStatusCode.Disconnected, $"The connection to {RemoteAddress} was lost: {ex.Message}", ex);
        }

        await writer.CompleteAsync(error).ConfigureAwait(false);
    }

    private async Task SendLoopAsync()
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
                try
                {
                    if (!buffer.IsEmpty)
                    {
                        await SendAsync(buffer).ConfigureAwait(false);
                    }
                }
                finally
                {
                    reader.AdvanceTo(buffer.End);
                }

                if (result.IsCompleted || result.IsCanceled)
                {
                    break;
                }
            }

            _socket.Shutdown(SocketShutdown.Send);
        }
        catch (Exception ex)
        {
            // Writers see this from their next flush: give them the transport's error type.
            error = ex as RpcException ?? new RpcException(RpcStatusCode.Disconnected, $"Sending to {RemoteAddress} failed: {ex.Message}", ex);
        }

        await reader.CompleteAsync(error).ConfigureAwait(false);
        if (error is not null)
        {
            // The peer is gone; make the receiver notice even if the peer never closes its side.
            _socket.Dispose();
        }
    }

    // The common case (one segment that the kernel takes whole at once) completes without a state
    // machine: none to set up in Release, none allocated per send in Debug builds.
    private ValueTask SendAsync(ReadOnlySequence<byte> buffer) =>
        buffer.IsSingleSegment ? SendAllAsync(buffer.First) : SendGatheredAsync(buffer);

    private async ValueTask SendGatheredAsync(ReadOnlySequence<byte> buffer)
    {
        // Many segments (a burst of frames, or one large frame): hand them to the kernel in one
        // gathered send instead of one system call per segment.
        _gather.Clear();
        foreach (var segment in buffer)
        {
            if (!MemoryMarshal.TryGetArray(segment, out var array))
            {
                _gather.Clear();
                foreach (var each in buffer)
                {
                    await SendAllAsync(each).ConfigureAwait(false);
                }

                return;
            }

            _gather.Add(array);
        }

        var remaining = buffer.Length;
        var sent = await _socket.SendAsync(_gather, SocketFlags.None).ConfigureAwait(false);
        remaining -= sent;
        if (remaining > 0)
        {
            // A partial gathered send: finish the rest segment by segment.
            foreach (var segment in buffer.Slice(sent))
            {
                await SendAllAsync(segment).ConfigureAwait(false);
            }
        }

        _gather.Clear();
    }

    private ValueTask SendAllAsync(ReadOnlyMemory<byte> memory)
    {
        if (memory.IsEmpty)
        {
            return default;
        }

        var send = _socket.SendAsync(memory, SocketFlags.None);
        if (!send.IsCompletedSuccessfully)
        {
            return SendRestAsync(send, memory);
        }

        var sent = send.Result;
        return sent == memory.Length ? default : SendRestAsync(new ValueTask<int>(sent), memory);
    }

    private async ValueTask SendRestAsync(ValueTask<int> first, ReadOnlyMemory<byte> memory)
    {
        memory = memory[await first.ConfigureAwait(false)..];
        while (!memory.IsEmpty)
        {
            var sent = await _socket.SendAsync(memory, SocketFlags.None).ConfigureAwait(false);
            memory = memory[sent..];
        }
    }
}
