using System.Buffers;
using System.Runtime.InteropServices;
using RpcGen.Buffers;

namespace RpcGen.Streams;

/// <summary>
/// Adapts <see cref="Stream"/> to the chunk streams the transports carry. Called by generated code
/// for <c>Stream</c> parameters and results.
/// </summary>
public static class RpcByteStreams
{
    /// <summary>The size of the chunks a stream is cut into: large enough to amortize a frame, small enough to interleave with other calls.</summary>
    public const int ChunkSize = 64 * 1024;

    /// <summary>
    /// Reads <paramref name="stream"/> in chunks. Each chunk is valid only until the next one is
    /// requested (the buffer is reused); transports copy it into a frame before asking for more, and
    /// the message transport reads the stream straight into its frames instead. The stream is
    /// disposed at the end.
    /// </summary>
    /// <remarks>A null <paramref name="stream"/> fails the enumeration (its first step), not this call.</remarks>
    public static IAsyncEnumerable<ReadOnlyMemory<byte>> ReadChunksAsync(Stream stream, CancellationToken cancellationToken = default) =>
        new StreamChunkSource(stream, cancellationToken);

    /// <summary>Reads the stream a task produces, in chunks (for implementations returning <c>Task&lt;Stream&gt;</c>).</summary>
    public static async Task<IAsyncEnumerable<ReadOnlyMemory<byte>>> ReadChunksAsync(Task<Stream> stream) =>
        ReadChunksAsync(await stream.ConfigureAwait(false));

    /// <summary>Reads the stream a task produces, in chunks (for implementations returning <c>ValueTask&lt;Stream&gt;</c>).</summary>
    public static async Task<IAsyncEnumerable<ReadOnlyMemory<byte>>> ReadChunksAsync(ValueTask<Stream> stream) =>
        ReadChunksAsync(await stream.ConfigureAwait(false));

    /// <summary>Presents a chunk stream as a read-only <see cref="Stream"/>; disposing it early cancels the transfer.</summary>
    public static Stream AsStream(IAsyncEnumerable<ReadOnlyMemory<byte>> chunks) => new ChunkReadStream(chunks, ownsChunks: false);

    /// <summary>
    /// Presents chunks received from a transport as a read-only <see cref="Stream"/>, returning each
    /// chunk's pooled array (see <see cref="RpcGen.Serialization.RawBytesFormatter"/>) once it is read.
    /// Generated code calls this for received <c>Stream</c> parameters and results.
    /// </summary>
    public static Stream AsReceivedStream(IAsyncEnumerable<ReadOnlyMemory<byte>> chunks) => new ChunkReadStream(chunks, ownsChunks: true);

    private sealed class ChunkReadStream(IAsyncEnumerable<ReadOnlyMemory<byte>> chunks, bool ownsChunks) : Stream
    {
        private readonly bool _ownsChunks = ownsChunks;

        // Created by the first read. Each read brings its own token; the enumeration has the
        // stream's own, which disposal fires only to end a step a cancelled read left running.
        private ChunkStepper? _stepper;
        private CancellationTokenSource? _lifetime;
        private int _disposed;
        private ReadOnlyMemory<byte> _current;

        // The whole chunk _current is a tail of: received chunks live in pooled arrays
        // (RawBytesFormatter), returned here once read, since nothing else holds them.
        private ReadOnlyMemory<byte> _currentChunk;
        private bool _finished;

        private void ReturnChunk()
        {
            if (_ownsChunks && MemoryMarshal.TryGetMemoryManager(_currentChunk, out RetainableBuffer? received))
            {
                // The received bytes themselves (RawBytesFormatter): this chunk's hold on them ends.
                received.Release();
            }
            else if (_ownsChunks && MemoryMarshal.TryGetArray(_currentChunk, out var segment) && segment.Array is { Length: > 0 } array)
            {
                try
                {
                    ArrayPool<byte>.Shared.Return(array);
                }
                catch (ArgumentException)
                {
                    // Not a pooled array (a chunk that did not come through RawBytesFormatter): the GC has it.
                }
            }

            _currentChunk = default;
        }

        public override bool CanRead => true;

        public override bool CanSeek => false;

        public override bool CanWrite => false;

        public override long Length => throw new NotSupportedException();

        public override long Position
        {
            get => throw new NotSupportedException();
            set => throw new NotSupportedException();
        }

        public override int Read(byte[] buffer, int offset, int count) =>
            ReadAsync(buffer.AsMemory(offset, count)).AsTask().GetAwaiter().GetResult();

        public override async ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken = default)
        {
            if (buffer.IsEmpty)
            {
                return 0;
            }

            ObjectDisposedException.ThrowIf(Volatile.Read(ref _disposed) != 0, this);
            while (_current.IsEmpty)
            {
                if (_finished)
                {
                    return 0;
                }

                if (_stepper is null)
                {
                    _lifetime = new CancellationTokenSource();
                    _stepper = new ChunkStepper(chunks.GetAsyncEnumerator(_lifetime.Token));
                }

                ReturnChunk();
                if (!await _stepper.MoveNextAsync(cancellationToken).ConfigureAwait(false))
                {
                    _finished = true;
                    return 0;
                }

                _current = _stepper.Current;
                _currentChunk = _current;
            }

            var count = Math.Min(buffer.Length, _current.Length);
            _current.Span[..count].CopyTo(buffer.Span);
            _current = _current[count..];
            return count;
        }

        public override Task<int> ReadAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken) =>
            ReadAsync(buffer.AsMemory(offset, count), cancellationToken).AsTask();

        public override void Flush()
        {
        }

        public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();

        public override void SetLength(long value) => throw new NotSupportedException();

        public override void Write(byte[] buffer, int offset, int count) => throw new NotSupportedException();

        public override async ValueTask DisposeAsync()
        {
            await EndAsync().ConfigureAwait(false);
            GC.SuppressFinalize(this);
        }

        protected override void Dispose(bool disposing)
        {
            if (disposing)
            {
                EndAsync().AsTask().GetAwaiter().GetResult();
            }

            base.Dispose(disposing);
        }

        private async ValueTask EndAsync()
        {
            if (Interlocked.Exchange(ref _disposed, 1) == 0 && _stepper is { } stepper)
            {
                if (stepper.HasStepRunning)
                {
                    // A cancelled read left a step waiting for the peer: end it now rather than at
                    // the peer's next chunk (disposing early cancels the transfer).
                    await _lifetime!.CancelAsync().ConfigureAwait(false);
                }

                await stepper.DisposeAsync().ConfigureAwait(false);
                _current = default;
                ReturnChunk();
                _lifetime!.Dispose();
            }
        }
    }
}
