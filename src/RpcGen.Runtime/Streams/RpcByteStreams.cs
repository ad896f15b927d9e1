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
    public static Stream AsStream(IAsyncEnumerable<ReadOnlyMemory<byte>> chunks) => new EnumerableChunkStream(chunks, ownsChunks: false);

    /// <summary>
    /// Presents chunks received from a transport as a read-only <see cref="Stream"/>, returning each
    /// chunk's pooled array (see <see cref="RpcGen.Serialization.RawBytesFormatter"/>) once it is read.
    /// Generated code calls this for received <c>Stream</c> parameters and results.
    /// </summary>
    public static Stream AsReceivedStream(IAsyncEnumerable<ReadOnlyMemory<byte>> chunks) => new EnumerableChunkStream(chunks, ownsChunks: true);

    /// <summary>The chunks of an enumerable as a <see cref="Stream"/>; received chunks (owned) are released as they are used up.</summary>
    private sealed class EnumerableChunkStream(IAsyncEnumerable<ReadOnlyMemory<byte>> chunks, bool ownsChunks) : ChunkReadStream
    {
        // The enumeration's own token, which disposal fires only to end a step a cancelled read left running.
        private readonly CancellationTokenSource _lifetime = new();

        protected override IAsyncEnumerator<ReadOnlyMemory<byte>> OpenChunks() => chunks.GetAsyncEnumerator(_lifetime.Token);

        protected override void ReleaseChunk(ReadOnlyMemory<byte> chunk)
        {
            if (!ownsChunks)
            {
                return;
            }

            // Received chunks live in pooled memory (RawBytesFormatter), released here once read,
            // since nothing else holds them.
            if (MemoryMarshal.TryGetMemoryManager(chunk, out RetainableBuffer? received))
            {
                // The received bytes themselves: this chunk's hold on them ends.
                received.Release();
            }
            else if (MemoryMarshal.TryGetArray(chunk, out var segment) && segment.Array is { Length: > 0 } array)
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
        }

        protected override async ValueTask CloseChunksAsync(ChunkStepper? stepper)
        {
            if (stepper is not null)
            {
                if (stepper.HasStepRunning)
                {
                    // A cancelled read left a step waiting for the peer: end it now rather than at
                    // the peer's next chunk (disposing early cancels the transfer).
                    await _lifetime.CancelAsync().ConfigureAwait(false);
                }

                await stepper.DisposeAsync().ConfigureAwait(false);
            }

            _lifetime.Dispose();
        }
    }
}
