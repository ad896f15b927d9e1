using System.Buffers;
using System.Collections.Concurrent;

namespace RpcGen.Buffers;

/// <summary>
/// The memory a receiving pipe is built on when its stream chunks may keep the received bytes instead
/// of copying them (<see cref="RetainableBuffer"/>): blocks whose arrays come from
/// <see cref="ArrayPool{T}.Shared"/>, handed back here by their last holder. One pool per link.
/// </summary>
/// <remarks>
/// Renting takes a spare block (no allocation in steady state: a unary call's reply rents and returns
/// one block each time), giving it a larger array when its own is too small. At most
/// <see cref="MaxSpares"/> spares are kept; the arrays of the others go back to the shared array pool.
/// </remarks>
internal sealed class RetainableBufferPool : MemoryPool<byte>
{
    private const int MaxSpares = 16;
    private const int DefaultSize = 4096;
    private readonly ConcurrentQueue<RetainableBuffer> _spares = new();

    public override int MaxBufferSize => Array.MaxLength;

    public override IMemoryOwner<byte> Rent(int minBufferSize = -1)
    {
        var size = minBufferSize < 0 ? DefaultSize : minBufferSize;
        if (!_spares.TryDequeue(out var block))
        {
            block = new RetainableBuffer(this, ArrayPool<byte>.Shared.Rent(size));
            block.HandOut(block.Array);
            return block;
        }

        var array = block.Array;
        if (array.Length < size)
        {
            ArrayPool<byte>.Shared.Return(array);
            array = ArrayPool<byte>.Shared.Rent(size);
        }

        block.HandOut(array);
        return block;
    }

    /// <summary>The block's last holder let go of it.</summary>
    internal void Return(RetainableBuffer block)
    {
        if (_spares.Count < MaxSpares)
        {
            _spares.Enqueue(block);
        }
        else
        {
            ArrayPool<byte>.Shared.Return(block.Array);
        }
    }

    protected override void Dispose(bool disposing)
    {
        // Blocks still held go back to the shared array pool, or to the collector, through their holders.
    }
}
