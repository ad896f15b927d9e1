using System.Buffers;
using System.IO.Pipelines;
using System.Runtime.InteropServices;
using RpcGen.Buffers;
using RpcGen.Serialization;
using RpcGen.Streams;

namespace RpcGen.Runtime.Tests;

/// <summary>
/// Received stream chunks that keep the bytes a pipe over a <see cref="RetainableBufferPool"/> holds
/// (the shared-memory link's inbound pipe) instead of copying them: the bytes must stay as they were
/// while the pipe goes on receiving, and the block is reused only once the chunk is read.
/// </summary>
public class RetainableBufferTests
{
    private const int ChunkBytes = 64 * 1024;

    [Fact]
    public async Task A_large_chunk_keeps_the_received_bytes_until_it_is_read_and_only_then_is_the_block_reused()
    {
        var pipe = new Pipe(new PipeOptions(pool: new RetainableBufferPool(), pauseWriterThreshold: 0, resumeWriterThreshold: 0, readerScheduler: PipeScheduler.Inline, writerScheduler: PipeScheduler.Inline, useSynchronizationContext: false));

        var first = await ReceiveAsync(pipe, 0xA1, ChunkBytes);
        Assert.True(MemoryMarshal.TryGetMemoryManager(first, out RetainableBuffer? firstBlock), "The chunk is a copy, not the received bytes.");

        // The pipe let go of the first block when its bytes were consumed; the chunk still holds it,
        // so the next bytes go elsewhere and the chunk's bytes stay.
        var second = await ReceiveAsync(pipe, 0xB2, ChunkBytes);
        Assert.True(MemoryMarshal.TryGetMemoryManager(second, out RetainableBuffer? secondBlock));
        Assert.NotSame(firstBlock, secondBlock);
        Assert.True(first.Span.IndexOfAnyExcept((byte)0xA1) < 0, "A retained chunk's bytes changed.");

        // Reading the first chunk through the received-stream adapter releases it: the pool hands
        // that block out again.
        await using (var stream = RpcByteStreams.AsReceivedStream(Chunks(first)))
        {
            var read = new byte[ChunkBytes];
            await stream.ReadExactlyAsync(read);
            Assert.True(read.AsSpan().IndexOfAnyExcept((byte)0xA1) < 0);
            Assert.Equal(0, await stream.ReadAsync(read));
        }

        var third = await ReceiveAsync(pipe, 0xC3, ChunkBytes);
        Assert.True(MemoryMarshal.TryGetMemoryManager(third, out RetainableBuffer? thirdBlock));
        Assert.Same(firstBlock, thirdBlock);
        Assert.True(second.Span.IndexOfAnyExcept((byte)0xB2) < 0, "A retained chunk's bytes changed.");
        Assert.True(third.Span.IndexOfAnyExcept((byte)0xC3) < 0);
    }

    [Fact]
    public async Task A_chunk_smaller_than_half_its_block_is_copied_and_holds_no_block()
    {
        var pipe = new Pipe(new PipeOptions(pool: new RetainableBufferPool(), pauseWriterThreshold: 0, resumeWriterThreshold: 0, readerScheduler: PipeScheduler.Inline, writerScheduler: PipeScheduler.Inline, useSynchronizationContext: false));

        var small = await ReceiveAsync(pipe, 0x11, 100);

        Assert.False(MemoryMarshal.TryGetMemoryManager(small, out RetainableBuffer? _), "A small chunk holds a whole block.");
        Assert.True(small.Span.IndexOfAnyExcept((byte)0x11) < 0);
    }

    /// <summary>Writes <paramref name="length"/> bytes of <paramref name="fill"/> into the pipe, parses them as a chunk and consumes them.</summary>
    private static async Task<ReadOnlyMemory<byte>> ReceiveAsync(Pipe pipe, byte fill, int length)
    {
        pipe.Writer.GetSpan(length)[..length].Fill(fill);
        pipe.Writer.Advance(length);
        await pipe.Writer.FlushAsync();
        var result = await pipe.Reader.ReadAsync();
        var chunk = RpcSerializer.Deserialize(result.Buffer, RawBytesFormatter.Instance);
        pipe.Reader.AdvanceTo(result.Buffer.End);
        return chunk;
    }

#pragma warning disable CS1998 // An enumerable of one chunk, as a transport hands them over.
    private static async IAsyncEnumerable<ReadOnlyMemory<byte>> Chunks(ReadOnlyMemory<byte> chunk)
    {
        yield return chunk;
    }
#pragma warning restore CS1998
}
