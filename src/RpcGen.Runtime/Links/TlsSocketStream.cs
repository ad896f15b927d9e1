using System.Net.Sockets;

namespace RpcGen.Links;

/// <summary>
/// The socket under a TLS link's <see cref="System.Net.Security.SslStream"/>, buffered both ways so
/// TLS costs few system calls: SslStream writes one TLS record (at most 16 KiB) per call, and while
/// the link's send loop has a batch open (<see cref="BeginBatch"/>) those records collect here and
/// leave in one send at the flush that ends the batch; outside a batch (the handshake, anything SslStream
/// writes on its own) every write goes out at once. Reads fill a 64 KiB buffer from the socket and
/// hand SslStream what it asks for, so several records arrive per receive.
/// Invariants: bytes leave in the order SslStream wrote them (every write and flush holds
/// <see cref="_sendLock"/>); one read at a time (SslStream's rule); the stream owns the socket.
/// </summary>
internal sealed class TlsSocketStream(Socket socket) : Stream
{
    private const int BufferBytes = 64 * 1024;

    private readonly SemaphoreSlim _sendLock = new(1, 1);
    private readonly byte[] _receiveBuffer = new byte[BufferBytes];
    private readonly byte[] _sendBuffer = new byte[BufferBytes];
    private int _receiveStart;
    private int _receiveEnd;

    // Valid while _sendLock is held: how many bytes of _sendBuffer wait for the flush.
    private int _sendCount;

    // Set by the send loop for one batch; cleared by the flush that sends it.
    private volatile bool _batching;

    public override bool CanRead => true;

    public override bool CanWrite => true;

    public override bool CanSeek => false;

    public override long Length => throw new NotSupportedException();

    public override long Position { get => throw new NotSupportedException(); set => throw new NotSupportedException(); }

    /// <summary>From now until the next flush, writes collect in the send buffer.</summary>
    public void BeginBatch() => _batching = true;

    public override async ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken = default)
    {
        if (_receiveStart == _receiveEnd)
        {
            if (buffer.Length >= BufferBytes)
            {
                return await ReceiveAsync(buffer, cancellationToken).ConfigureAwait(false);
            }

            _receiveStart = 0;
            _receiveEnd = await ReceiveAsync(_receiveBuffer, cancellationToken).ConfigureAwait(false);
            if (_receiveEnd == 0)
            {
                return 0;
            }
        }

        var count = Math.Min(buffer.Length, _receiveEnd - _receiveStart);
        _receiveBuffer.AsSpan(_receiveStart, count).CopyTo(buffer.Span);
        _receiveStart += count;
        return count;
    }

    public override async ValueTask WriteAsync(ReadOnlyMemory<byte> buffer, CancellationToken cancellationToken = default)
    {
        await _sendLock.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            if (_batching && _sendCount + buffer.Length <= BufferBytes)
            {
                buffer.Span.CopyTo(_sendBuffer.AsSpan(_sendCount));
                _sendCount += buffer.Length;
                return;
            }

            await SendBufferedAsync(cancellationToken).ConfigureAwait(false);
            if (_batching && buffer.Length < BufferBytes)
            {
                buffer.Span.CopyTo(_sendBuffer);
                _sendCount = buffer.Length;
                return;
            }

            await SendAsync(buffer, cancellationToken).ConfigureAwait(false);
        }
        finally
        {
            _sendLock.Release();
        }
    }

    public override async Task FlushAsync(CancellationToken cancellationToken)
    {
        await _sendLock.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            _batching = false;
            await SendBufferedAsync(cancellationToken).ConfigureAwait(false);
        }
        finally
        {
            _sendLock.Release();
        }
    }

    private async ValueTask SendBufferedAsync(CancellationToken cancellationToken)
    {
        if (_sendCount > 0)
        {
            var count = _sendCount;
            _sendCount = 0;
            await SendAsync(_sendBuffer.AsMemory(0, count), cancellationToken).ConfigureAwait(false);
        }
    }

    // Socket errors surface as IOException, as NetworkStream reports them, so SslStream and the
    // link's loops see the same exceptions as over any stream.
    private async ValueTask<int> ReceiveAsync(Memory<byte> buffer, CancellationToken cancellationToken)
    {
        try
        {
            return await socket.ReceiveAsync(buffer, SocketFlags.None, cancellationToken).ConfigureAwait(false);
        }
        catch (SocketException ex)
        {
            throw new IOException(ex.Message, ex);
        }
    }

    private async ValueTask SendAsync(ReadOnlyMemory<byte> buffer, CancellationToken cancellationToken)
    {
        try
        {
            while (!buffer.IsEmpty)
            {
                var sent = await socket.SendAsync(buffer, SocketFlags.None, cancellationToken).ConfigureAwait(false);
                buffer = buffer[sent..];
            }
        }
        catch (SocketException ex)
        {
            throw new IOException(ex.Message, ex);
        }
    }

    public override Task<int> ReadAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken) =>
        ReadAsync(buffer.AsMemory(offset, count), cancellationToken).AsTask();

    public override Task WriteAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken) =>
        WriteAsync(buffer.AsMemory(offset, count), cancellationToken).AsTask();

    public override int Read(byte[] buffer, int offset, int count) => ReadAsync(buffer.AsMemory(offset, count)).AsTask().GetAwaiter().GetResult();

    public override void Write(byte[] buffer, int offset, int count) => WriteAsync(buffer.AsMemory(offset, count)).AsTask().GetAwaiter().GetResult();

    public override void Flush() => FlushAsync(CancellationToken.None).GetAwaiter().GetResult();

    public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();

    public override void SetLength(long value) => throw new NotSupportedException();

    protected override void Dispose(bool disposing)
    {
        if (disposing)
        {
            socket.Dispose();
        }

        base.Dispose(disposing);
    }
}
