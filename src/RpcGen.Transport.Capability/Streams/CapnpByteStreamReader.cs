namespace RpcGen.Capnp;

/// <summary>
/// A read-only <see cref="Stream"/> over the chunks a byte sink receives (<c>write @0 (bytes :Data) -&gt; stream</c>):
/// what a generated proxy returns for <c>Task&lt;Stream&gt;</c> and a generated server passes for a
/// <c>Stream</c> parameter. Reading takes chunks from the sink, which answers their writes; disposing
/// stops reading (later writes are dropped) and runs <c>onDispose</c> (a proxy cancels its call).
/// </summary>
internal sealed class CapnpByteStreamReader(IAsyncEnumerator<ReadOnlyMemory<byte>> chunks, Action? onDispose = null) : Stream
{
    private ReadOnlyMemory<byte> _current;
    private bool _finished;
    private int _disposed;

    // Each read brings its own token; a step a cancelled read left running goes to the next read,
    // and disposal waits for it (a compiler-generated enumerator disposed during a step throws, or
    // completes the step twice, which throws on the thread pool and ends the process).
    private readonly RpcGen.Streams.ChunkStepper _stepper = new(chunks);

    public override bool CanRead => true;

    public override bool CanSeek => false;

    public override bool CanWrite => false;

    public override long Length => throw new NotSupportedException();

    public override long Position
    {
        get => throw new NotSupportedException();
        set => throw new NotSupportedException();
    }

    /// <summary>Waits for the first chunk, the end or the stream's error (which it throws), so a failure before any bytes surfaces at once.</summary>
    public async ValueTask PrimeAsync()
    {
        await FillAsync(CancellationToken.None).ConfigureAwait(false);
    }

    public override async ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken = default)
    {
        if (buffer.IsEmpty)
        {
            return 0;
        }

        if (_current.IsEmpty && !await FillAsync(cancellationToken).ConfigureAwait(false))
        {
            return 0;
        }

        var count = Math.Min(buffer.Length, _current.Length);
        _current[..count].CopyTo(buffer);
        _current = _current[count..];
        return count;
    }

    public override Task<int> ReadAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken) =>
        ReadAsync(buffer.AsMemory(offset, count), cancellationToken).AsTask();

    public override int Read(byte[] buffer, int offset, int count) => ReadAsync(buffer.AsMemory(offset, count)).AsTask().GetAwaiter().GetResult();

    public override void Flush()
    {
    }

    public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();

    public override void SetLength(long value) => throw new NotSupportedException();

    public override void Write(byte[] buffer, int offset, int count) => throw new NotSupportedException();

    public override async ValueTask DisposeAsync()
    {
        if (Interlocked.Exchange(ref _disposed, 1) == 0)
        {
            onDispose?.Invoke();
            if (_stepper.HasStepRunning)
            {
                // onDispose cancelled the call (on a proxy), which ends the step soon; a server's
                // reader is ended by the peer's next write, its end or the connection's close.
                _ = DisposeAfterStepAsync();
            }
            else
            {
                await _stepper.DisposeAsync().ConfigureAwait(false);
            }
        }

        GC.SuppressFinalize(this);
    }

    protected override void Dispose(bool disposing)
    {
        if (disposing)
        {
            DisposeAsync().AsTask().GetAwaiter().GetResult();
        }

        base.Dispose(disposing);
    }

    private async ValueTask<bool> FillAsync(CancellationToken cancellationToken)
    {
        ObjectDisposedException.ThrowIf(Volatile.Read(ref _disposed) != 0, this);
        while (_current.IsEmpty)
        {
            if (_finished)
            {
                return false;
            }

            if (!await _stepper.MoveNextAsync(cancellationToken).ConfigureAwait(false))
            {
                _finished = true;
                return false;
            }

            _current = _stepper.Current;
        }

        return true;
    }

    private async Task DisposeAfterStepAsync()
    {
        try
        {
            await _stepper.DisposeAsync().ConfigureAwait(false);
        }
        catch (Exception ex) when (ex is RpcException or OperationCanceledException or ObjectDisposedException)
        {
            // Nobody is left to tell: the stream was disposed already.
        }
    }
}
