using System.Buffers;

namespace RpcGen.Transport.SharedMemory;

/// <summary>
/// Bytes the protocol wrote while every send window was still with the peer, in order, in pooled
/// chunks, until the <see cref="WindowWriter"/>'s drain moves them into windows the peer gives back.
/// The protocol appends at the tail (a span out between <see cref="GetMemory"/> and
/// <see cref="Advance"/>); the drain copies from the front. Not thread-safe: every member is used
/// under the writer's backlog lock, which only the slow path (a peer that does not keep up) takes.
/// </summary>
internal sealed class WindowBacklog
{
    // Large enough that a burst of small answers fills a few chunks, not hundreds.
    private const int ChunkBytes = 64 * 1024;

    private readonly List<Chunk> _chunks = new();

    // Bytes of the front chunk already copied into windows.
    private int _copied;

    /// <summary>Whether the protocol holds a span of the tail chunk that it has not advanced yet.</summary>
    public bool SpanOut { get; private set; }

    /// <summary>Whether no written byte waits to be copied into a window.</summary>
    public bool IsEmpty => _chunks.Count == 0 || (_chunks.Count == 1 && _copied == _chunks[0].Length);

    /// <summary>The unwritten rest of the tail chunk, at least <paramref name="sizeHint"/> bytes (one, when zero).</summary>
    public Memory<byte> GetMemory(int sizeHint)
    {
        var needed = Math.Max(sizeHint, 1);
        if (_chunks.Count == 0 || _chunks[^1].Buffer.Length - _chunks[^1].Length < needed)
        {
            _chunks.Add(new Chunk(ArrayPool<byte>.Shared.Rent(Math.Max(needed, ChunkBytes))));
        }

        SpanOut = true;
        var tail = _chunks[^1];
        return tail.Buffer.AsMemory(tail.Length);
    }

    /// <summary>Counts <paramref name="bytes"/> written into the span <see cref="GetMemory"/> gave.</summary>
    public void Advance(int bytes)
    {
        if (_chunks.Count == 0)
        {
            ArgumentOutOfRangeException.ThrowIfNotEqual(bytes, 0);
        }
        else
        {
            var tail = _chunks[^1];
            ArgumentOutOfRangeException.ThrowIfGreaterThan(bytes, tail.Buffer.Length - tail.Length);
            tail.Length += bytes;
        }

        SpanOut = false;
    }

    /// <summary>Appends <paramref name="bytes"/> (the rest of a large write the windows could not take).</summary>
    public void Append(ReadOnlySpan<byte> bytes)
    {
        bytes.CopyTo(GetMemory(bytes.Length).Span);
        Advance(bytes.Length);
    }

    /// <summary>Copies written bytes from the front into <paramref name="destination"/>; returns how many, and lets go of chunks copied whole.</summary>
    public int CopyTo(Span<byte> destination)
    {
        var copied = 0;
        while (copied < destination.Length && _chunks.Count > 0)
        {
            var front = _chunks[0];
            var take = Math.Min(front.Length - _copied, destination.Length - copied);
            front.Buffer.AsSpan(_copied, take).CopyTo(destination[copied..]);
            copied += take;
            _copied += take;
            if (_copied < front.Length)
            {
                break;
            }

            if (_chunks.Count == 1 && SpanOut)
            {
                // The protocol is still writing into it.
                break;
            }

            _chunks.RemoveAt(0);
            _copied = 0;
            ArrayPool<byte>.Shared.Return(front.Buffer);
        }

        return copied;
    }

    /// <summary>
    /// Drops every written byte (the link stopped: nothing more goes out). A tail chunk the protocol
    /// still writes into stays, counted as copied, so its <see cref="Advance"/> lands where it wrote;
    /// the rest go back to the pool.
    /// </summary>
    public void Clear()
    {
        var keep = SpanOut && _chunks.Count > 0 ? _chunks[^1] : null;
        foreach (var chunk in _chunks)
        {
            if (chunk != keep)
            {
                ArrayPool<byte>.Shared.Return(chunk.Buffer);
            }
        }

        _chunks.Clear();
        _copied = 0;
        if (keep is not null)
        {
            _chunks.Add(keep);
            _copied = keep.Length;
        }
    }

    private sealed class Chunk(byte[] buffer)
    {
        public byte[] Buffer { get; } = buffer;

        public int Length { get; set; }
    }
}
