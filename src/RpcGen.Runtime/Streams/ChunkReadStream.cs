namespace RpcGen.Streams;

/// <summary>
/// A read-only <see cref="Stream"/> over a chunk enumerator, for the transports' received byte
/// streams: a read copies from the chunk in hand and moves to the next once it is used up. Each read
/// has its own cancellation token (<see cref="ChunkStepper"/>): a cancelled read loses nothing.
/// </summary>
internal abstract class ChunkReadStream : Stream
{
    private ChunkStepper? _stepper;
    private ReadOnlyMemory<byte> _current;

    // The whole chunk _current is a tail of, until it is used up and released.
    private ReadOnlyMemory<byte> _chunk;
    private bool _finished;
    private int _disposed;

    public override bool CanRead => true;

    public override bool CanSeek => false;

    public override bool CanWrite => false;

    public override long Length => throw new NotSupportedException();

    public override long Position
    {
        get => throw new NotSupportedException();
        set => throw new NotSupportedException();
    }

    /// <summary>The chunks, asked for by the first read.</summary>
    protected abstract IAsyncEnumerator<ReadOnlyMemory<byte>> OpenChunks();

    /// <summary>A chunk is used up, or the stream is disposed with it in hand (<c>default</c> when there was none): whatever held its bytes may let go.</summary>
    protected virtual void ReleaseChunk(ReadOnlyMemory<byte> chunk)
    {
    }

    /// <summary>Ends the chunks at disposal (once); <paramref name="stepper"/> is null when no read opened them.</summary>
    protected virtual ValueTask CloseChunksAsync(ChunkStepper? stepper) => stepper?.DisposeAsync() ?? default;

    /// <summary>Makes sure a chunk is in hand: false at the end. Throws the chunks' error, and <see cref="OperationCanceledException"/> when <paramref name="cancellationToken"/> fires first.</summary>
    protected async ValueTask<bool> FillAsync(CancellationToken cancellationToken)
    {
        ObjectDisposedException.ThrowIf(Volatile.Read(ref _disposed) != 0, this);
        while (_current.IsEmpty)
        {
            if (_finished)
            {
                return false;
            }

            _stepper ??= new ChunkStepper(OpenChunks());
            TakeChunk(default);
            if (!await _stepper.MoveNextAsync(cancellationToken).ConfigureAwait(false))
            {
                _finished = true;
                return false;
            }

            TakeChunk(_stepper.Current);
        }

        return true;
    }

    public override async ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken = default)
    {
        if (buffer.IsEmpty || !await FillAsync(cancellationToken).ConfigureAwait(false))
        {
            return 0;
        }

        var count = Math.Min(buffer.Length, _current.Length);
        _current.Span[..count].CopyTo(buffer.Span);
        _current = _current[count..];
        return count;
    }

    public override Task<int> ReadAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken) =>
        ReadAsync(buffer.AsMemory(offset, count), cancellationToken).AsTask();

    public override int Read(byte[] buffer, int offset, int count) =>
        ReadAsync(buffer.AsMemory(offset, count)).AsTask().GetAwaiter().GetResult();

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
            await CloseChunksAsync(_stepper).ConfigureAwait(false);
            TakeChunk(default);
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

    private void TakeChunk(ReadOnlyMemory<byte> chunk)
    {
        ReleaseChunk(_chunk);
        _chunk = chunk;
        _current = chunk;
    }
}
