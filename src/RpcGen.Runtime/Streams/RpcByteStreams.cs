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

        private IAsyncEnumerator<ReadOnlyMemory<byte>>? _enumerator;
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

            while (_current.IsEmpty)
            {
                if (_finished)
                {
                    return 0;
                }

                _enumerator ??= chunks.GetAsyncEnumerator(cancellationToken);
                ReturnChunk();
                if (!await _enumerator.MoveNextAsync().ConfigureAwait(false))
                {
                    _finished = true;
                    return 0;
                }

                _current = _enumerator.Current;
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
            if (_enumerator is not null)
            {
                await _enumerator.DisposeAsync().ConfigureAwait(false);
                _enumerator = null;
            }

            await base.DisposeAsync().ConfigureAwait(false);
        }

        protected override void Dispose(bool disposing)
        {
            if (disposing && _enumerator is not null)
            {
                _enumerator.DisposeAsync().AsTask().GetAwaiter().GetResult();
                _enumerator = null;
            }

            base.Dispose(disposing);
        }
    }
}
