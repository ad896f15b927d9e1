using System.Buffers;
using System.Collections.Concurrent;
using System.IO.Pipelines;

namespace RpcGen.Transport.Flow;

// The pipes a flow hands to its user. They wrap ordinary pipes to learn two things the flow needs:
// how many bytes the reader consumed (to release credit) and how many bytes the writer produced
// (to place message boundaries). Invariant: one reader and one writer at a time, as for any pipe.

/// <summary>A flow's input: tells the flow how many bytes each <see cref="AdvanceTo(SequencePosition)"/> consumed.</summary>
internal sealed class FlowInput(PipeReader inner, Flow flow) : PipeReader
{
    // The buffer of the last read, so AdvanceTo can measure what it consumed; empty between reads.
    private ReadOnlySequence<byte> _last;

    public override void AdvanceTo(SequencePosition consumed) => AdvanceTo(consumed, consumed);

    public override void AdvanceTo(SequencePosition consumed, SequencePosition examined)
    {
        var count = _last.Slice(_last.Start, consumed).Length;
        _last = default;
        inner.AdvanceTo(consumed, examined);
        if (count > 0)
        {
            flow.OnConsumed(count);
        }
    }

    public override void CancelPendingRead() => inner.CancelPendingRead();

    public override void Complete(Exception? exception = null)
    {
        inner.Complete(exception);
        flow.OnInputCompleted();
    }

    public override async ValueTask<ReadResult> ReadAsync(CancellationToken cancellationToken = default)
    {
        var result = await inner.ReadAsync(cancellationToken).ConfigureAwait(false);
        _last = result.Buffer;
        return result;
    }

    public override bool TryRead(out ReadResult result)
    {
        if (!inner.TryRead(out result))
        {
            return false;
        }

        _last = result.Buffer;
        return true;
    }
}

/// <summary>A flow's output: counts the bytes written so message boundaries fall at the right place.</summary>
internal sealed class FlowOutput(PipeWriter inner, Flow flow) : PipeWriter
{
    public override void Advance(int bytes)
    {
        inner.Advance(bytes);
        flow.OnWritten(bytes);
    }

    public override void CancelPendingFlush() => inner.CancelPendingFlush();

    public override void Complete(Exception? exception = null) => inner.Complete(exception);

    public override ValueTask<FlushResult> FlushAsync(CancellationToken cancellationToken = default) => inner.FlushAsync(cancellationToken);

    public override Memory<byte> GetMemory(int sizeHint = 0) => inner.GetMemory(sizeHint);

    public override Span<byte> GetSpan(int sizeHint = 0) => inner.GetSpan(sizeHint);
}

/// <summary>A flow as a <see cref="Stream"/>: reads from its input, writes to its output; disposing closes the flow.</summary>
internal sealed class FlowStream(Flow flow) : Stream
{
    private readonly Stream _reader = flow.Input.AsStream(leaveOpen: true);
    private readonly Stream _writer = flow.Output.AsStream(leaveOpen: true);

    public override bool CanRead => true;

    public override bool CanSeek => false;

    public override bool CanWrite => true;

    public override long Length => throw new NotSupportedException();

    public override long Position { get => throw new NotSupportedException(); set => throw new NotSupportedException(); }

    public override void Flush() => _writer.Flush();

    public override Task FlushAsync(CancellationToken cancellationToken) => _writer.FlushAsync(cancellationToken);

    public override int Read(byte[] buffer, int offset, int count) => _reader.Read(buffer, offset, count);

    public override ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken = default) => _reader.ReadAsync(buffer, cancellationToken);

    public override Task<int> ReadAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken) => _reader.ReadAsync(buffer, offset, count, cancellationToken);

    public override void Write(byte[] buffer, int offset, int count) => _writer.Write(buffer, offset, count);

    public override ValueTask WriteAsync(ReadOnlyMemory<byte> buffer, CancellationToken cancellationToken = default) => _writer.WriteAsync(buffer, cancellationToken);

    public override Task WriteAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken) => _writer.WriteAsync(buffer, offset, count, cancellationToken);

    public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();

    public override void SetLength(long value) => throw new NotSupportedException();

    public override async ValueTask DisposeAsync()
    {
        await flow.DisposeAsync().ConfigureAwait(false);
        await base.DisposeAsync().ConfigureAwait(false);
    }

    protected override void Dispose(bool disposing)
    {
        if (disposing)
        {
            flow.DisposeAsync().AsTask().GetAwaiter().GetResult();
        }

        base.Dispose(disposing);
    }
}

/// <summary>
/// The blocks a connection's flow pipes are built of. A bulk transfer keeps every flow's window of
/// bytes in its pipes, far more blocks than the shared array pool keeps per size, so without this
/// each received chunk allocated fresh (zeroed) arrays. Invariant: at most <see cref="MaxRetainedBlocks"/>
/// free blocks are kept; blocks in use are bounded by the flows' windows, as before.
/// </summary>
internal sealed class FlowMemoryPool : MemoryPool<byte>
{
    /// <summary>The size of every pooled block; the flow pipes' minimum segment size.</summary>
    public const int BlockSize = 16 * 1024;

    // 8 MiB: sixteen flows with a full default window each on one side.
    private const int MaxRetainedBlocks = 512;

    private readonly ConcurrentStack<Block> _free = new();
    private int _freeCount;
    private int _inUse;

    public override int MaxBufferSize => BlockSize;

    /// <summary>Blocks rented and not yet returned: what the connection's flow pipes hold now.</summary>
    public int BlocksInUse => Volatile.Read(ref _inUse);

    public override IMemoryOwner<byte> Rent(int minBufferSize = -1)
    {
        ArgumentOutOfRangeException.ThrowIfGreaterThan(minBufferSize, BlockSize);
        Interlocked.Increment(ref _inUse);
        if (_free.TryPop(out var block))
        {
            Interlocked.Decrement(ref _freeCount);
            return block.Take();
        }

        return new Block(this);
    }

    protected override void Dispose(bool disposing)
    {
    }

    private void Return(Block block)
    {
        Interlocked.Decrement(ref _inUse);
        // Counted apart: ConcurrentStack.Count walks the stack.
        if (Interlocked.Increment(ref _freeCount) <= MaxRetainedBlocks)
        {
            _free.Push(block);
            return;
        }

        Interlocked.Decrement(ref _freeCount);
    }

    private sealed class Block(FlowMemoryPool pool) : IMemoryOwner<byte>
    {
        private readonly byte[] _array = GC.AllocateUninitializedArray<byte>(BlockSize);

        // Guards against a double Dispose returning the block twice.
        private int _rented = 1;

        public Memory<byte> Memory => _array;

        public Block Take()
        {
            _rented = 1;
            return this;
        }

        public void Dispose()
        {
            if (Interlocked.Exchange(ref _rented, 0) == 1)
            {
                pool.Return(this);
            }
        }
    }
}
