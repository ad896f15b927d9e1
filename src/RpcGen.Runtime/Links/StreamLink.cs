using System.Buffers;
using System.IO.Pipelines;
using RpcGen.Security;

namespace RpcGen.Links;

/// <summary>
/// A <see cref="Stream"/> (the <see cref="System.Net.Security.SslStream"/> of a TLS link) as an
/// <see cref="RpcLink"/>: one loop copies what the stream reads into the input pipe, another writes
/// what the protocol put in the output pipe. The stream must allow one read and one write at a time
/// concurrently (SslStream does). Invariant: the link owns the stream and disposes it exactly once,
/// after both loops have stopped or on <see cref="Abort"/>.
/// </summary>
internal sealed class StreamLink : RpcLink
{
    private const int ReceiveBuffer = 64 * 1024;
    private const int CoalesceBytes = 64 * 1024;

    private readonly Stream _stream;
    private readonly TlsSocketStream? _batching;
    private readonly Pipe _inbound;
    private readonly Pipe _outbound;
    private readonly Task _receiving;
    private readonly Task _sending;
    private int _aborted;

    // batching: the buffered socket under the stream, when there is one, so each batch the send
    // loop writes leaves it in as few sends as fit.
    public StreamLink(Stream stream, string localAddress, string remoteAddress, int maxPendingBytes, RpcPeerIdentity? peerIdentity, TlsSocketStream? batching = null)
    {
        _stream = stream;
        _batching = batching;
        LocalAddress = localAddress;
        RemoteAddress = remoteAddress;
        PeerIdentity = peerIdentity;
        _inbound = new Pipe(new PipeOptions(
            pauseWriterThreshold: maxPendingBytes,
            resumeWriterThreshold: maxPendingBytes / 2,
            readerScheduler: PipeScheduler.Inline,
            writerScheduler: PipeScheduler.Inline,
            useSynchronizationContext: false));
        var outboundPause = Math.Min(maxPendingBytes, SocketLink.MaxOutboundPipeBytes);
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

    public override RpcPeerIdentity? PeerIdentity { get; }

    public override void Abort()
    {
        if (Interlocked.Exchange(ref _aborted, 1) != 0)
        {
            return;
        }

        _stream.Dispose();
        _inbound.Writer.CancelPendingFlush();
        _outbound.Reader.CancelPendingRead();
    }

    public override async ValueTask DisposeAsync()
    {
        await _outbound.Writer.CompleteAsync().ConfigureAwait(false);
        await _sending.ConfigureAwait(false);
        await _stream.DisposeAsync().ConfigureAwait(false);
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
        try
        {
            while (true)
            {
                var memory = writer.GetMemory(ReceiveBuffer);
                var received = await _stream.ReadAsync(memory).ConfigureAwait(false);
                if (received == 0)
                {
                    break;
                }

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
            error = Volatile.Read(ref _aborted) != 0
                ? new RpcException(RpcStatusCode.Disconnected, "The link was aborted.")
                : new RpcException(RpcStatusCode.Disconnected, $"The connection to {RemoteAddress} was lost: {ex.Message}", ex);
        }

        await writer.CompleteAsync(error).ConfigureAwait(false);
    }

    // Each write to an SslStream is at least one TLS record and one send: many small frames written
    // together (many segments) are copied into one buffer and written once, up to 64 KiB at a time.
    private async ValueTask WriteAsync(ReadOnlySequence<byte> buffer)
    {
        if (buffer.IsSingleSegment)
        {
            await _stream.WriteAsync(buffer.First).ConfigureAwait(false);
            return;
        }

        var chunk = ArrayPool<byte>.Shared.Rent(CoalesceBytes);
        try
        {
            while (!buffer.IsEmpty)
            {
                var take = (int)Math.Min(buffer.Length, CoalesceBytes);
                buffer.Slice(0, take).CopyTo(chunk);
                await _stream.WriteAsync(chunk.AsMemory(0, take)).ConfigureAwait(false);
                buffer = buffer.Slice(take);
            }
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(chunk);
        }
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
                        _batching?.BeginBatch();
                        await WriteAsync(buffer).ConfigureAwait(false);
                        await _stream.FlushAsync().ConfigureAwait(false);
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

            // A TLS close_notify, so the peer reads a clean end of stream after the last record.
            if (_stream is System.Net.Security.SslStream ssl)
            {
                await ssl.ShutdownAsync().ConfigureAwait(false);
            }
        }
        catch (Exception ex)
        {
            error = ex as RpcException ?? new RpcException(RpcStatusCode.Disconnected, $"Sending to {RemoteAddress} failed: {ex.Message}", ex);
        }

        await reader.CompleteAsync(error).ConfigureAwait(false);
        if (error is not null)
        {
            _stream.Dispose();
        }
    }
}
