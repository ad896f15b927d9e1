using System.Buffers;
using System.Runtime.CompilerServices;

namespace RpcGen.Streams;

/// <summary>
/// A <see cref="Stream"/> to send as chunks (what <see cref="RpcByteStreams.ReadChunksAsync(Stream, CancellationToken)"/>
/// returns). Enumerated, it reads the stream into a chunk buffer of its own and yields it, as any
/// chunk stream; a transport that knows this type reads the stream straight into its frame instead
/// (<see cref="ReadAsync"/>), which saves the copy from the chunk buffer into the frame.
/// </summary>
/// <remarks>
/// Either way the stream is disposed once: at the end of the enumeration, or by
/// <see cref="DisposeStreamAsync"/>. A transport that reads directly calls <see cref="ReadAsync"/> one
/// read at a time and never disposes the stream while a read is in progress.
/// </remarks>
internal sealed class StreamChunkSource(Stream stream, CancellationToken cancellationToken) : IAsyncEnumerable<ReadOnlyMemory<byte>>
{
    /// <summary>Whether there is a stream to read directly (a null one fails only when enumerated, as it always did).</summary>
    public bool CanReadDirectly => stream is not null;

    /// <summary>The token given with the stream, which stops a direct reader as it stops an enumeration.</summary>
    public CancellationToken CancellationToken => cancellationToken;

    public IAsyncEnumerator<ReadOnlyMemory<byte>> GetAsyncEnumerator(CancellationToken enumerationToken = default) =>
        ReadChunksAsync(stream, cancellationToken).GetAsyncEnumerator(enumerationToken);

    /// <summary>Reads at most <see cref="RpcByteStreams.ChunkSize"/> bytes of the stream into <paramref name="destination"/>; 0 at its end.</summary>
    public ValueTask<int> ReadAsync(Memory<byte> destination, CancellationToken token) =>
        stream.ReadAsync(destination.Length > RpcByteStreams.ChunkSize ? destination[..RpcByteStreams.ChunkSize] : destination, token);

    /// <summary>Disposes the stream, for a transport that read it directly (an enumeration disposes it itself).</summary>
    public ValueTask DisposeStreamAsync() => stream.DisposeAsync();

    private static async IAsyncEnumerable<ReadOnlyMemory<byte>> ReadChunksAsync(Stream stream, [EnumeratorCancellation] CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(stream);
        var buffer = ArrayPool<byte>.Shared.Rent(RpcByteStreams.ChunkSize);
        try
        {
            while (true)
            {
                var read = await stream.ReadAsync(buffer.AsMemory(0, RpcByteStreams.ChunkSize), cancellationToken).ConfigureAwait(false);
                if (read == 0)
                {
                    yield break;
                }

                yield return buffer.AsMemory(0, read);
            }
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(buffer);
            await stream.DisposeAsync().ConfigureAwait(false);
        }
    }
}
