using System.Buffers;
using RpcGen.Buffers;

namespace RpcGen.Transport.SharedMemory;

/// <summary>
/// The link's private copy of received bytes the protocol's frame sink has not consumed yet: each
/// datagram is copied here once, out of its window, and the sink parses it here. Used by one thread
/// at a time (the holder of the link's receive role).
/// </summary>
/// <remarks>
/// The bytes live in a <see cref="RetainableBuffer"/>, so a received stream chunk that fills at least
/// half of it keeps these very bytes instead of copying them (<see cref="RpcGen.Serialization.RawBytesFormatter"/>).
/// That is why a block is only ever appended to, never compacted or reused in place: when a datagram
/// does not fit after what is held, the held bytes (an incomplete frame, or frames left while the
/// protocol pauses) move to a new block, and this buffer lets go of the old one, which goes back to the
/// array pool once any chunk retaining it is released too. When everything is consumed the block is let
/// go at once, so an idle link holds no memory here.
/// </remarks>
internal sealed class ReceiveBuffer
{
    // The smallest block rented: a small frame's datagram, and a few after it, fit.
    private const int MinimumBlockBytes = 4096;

    private readonly RetainableBufferPool _pool = new();
    private RetainableBuffer? _block;
    private int _start;
    private int _end;

    /// <summary>Bytes held and not consumed.</summary>
    public int Length => _end - _start;

    /// <summary>What is held, for the sink.</summary>
    public ReadOnlySequence<byte> Held => _block is null ? ReadOnlySequence<byte>.Empty : new(_block.Memory[_start.._end]);

    /// <summary>
    /// Room for <paramref name="length"/> more bytes after those held; <paramref name="frameBytes"/> is
    /// the size the incomplete frame at the front declares (checked against the frame limit by the
    /// sink; 0 when not known), which bounds how far the block grows ahead of the bytes.
    /// </summary>
    public Span<byte> Reserve(int length, long frameBytes)
    {
        if (_block is null || _block.GetSpan().Length - _end < length)
        {
            // At least twice the block before, up to the frame's size: a frame spread over many
            // datagrams is moved a few times, not once per datagram, and what is rented stays within
            // twice what arrived.
            var current = _block?.GetSpan().Length ?? 0;
            MoveToNewBlock((int)Math.Max(Length + (long)length, Math.Min(frameBytes, 2L * current)));
        }

        return _block!.GetSpan().Slice(_end, length);
    }

    /// <summary>The <paramref name="length"/> bytes written into the span <see cref="Reserve"/> gave are held.</summary>
    public void Commit(int length) => _end += length;

    /// <summary>The sink consumed <paramref name="count"/> bytes from the front.</summary>
    public void Consume(long count)
    {
        _start += (int)count;
        if (_start == _end)
        {
            Clear();
        }
    }

    /// <summary>Lets go of everything held.</summary>
    public void Clear()
    {
        _block?.Release();
        _block = null;
        _start = 0;
        _end = 0;
    }

    private void MoveToNewBlock(int capacity)
    {
        var block = (RetainableBuffer)_pool.Rent(Math.Max(MinimumBlockBytes, capacity));
        var held = Length;
        if (_block is not null)
        {
            _block.GetSpan().Slice(_start, held).CopyTo(block.GetSpan());
            _block.Release();
        }

        _block = block;
        _start = 0;
        _end = held;
    }
}
