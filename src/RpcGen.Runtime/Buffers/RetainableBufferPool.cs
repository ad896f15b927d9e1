using System.Buffers;
using System.Collections.Concurrent;

namespace RpcGen.Buffers;

/// <summary>
/// The memory a receiving pipe is built on when its stream chunks may keep the received bytes instead
/// of copying them (<see cref="RetainableBuffer"/>): blocks whose arrays come from
/// <see cref="ArrayPool{T}.Shared"/>, handed back here by their last holder. One pool per link.
/// </summary>
/// <remarks>
/// Every block's array is rented from <see cref="ArrayPool{T}.Shared"/> when the block is handed out and
/// returned when its last holder lets go, so an idle link keeps no memory here (the shared pool caches
/// and trims arrays for all links). Only the small block objects are kept as spares, at most
/// <see cref="MaxSpares"/>, so a unary call's reply, which rents and returns one block, allocates nothing.
/// </remarks>
internal sealed class RetainableBufferPool : MemoryPool<byte>
{
    private const int MaxSpares = 16;
    private const int DefaultSize = 4096;
    private readonly ConcurrentQueue<RetainableBuffer> _spares = new();

    public override int MaxBufferSize => Array.MaxLength;

    public override IMemoryOwner<byte> Rent(int minBufferSize = -1)
    {
        if (!_spares.TryDequeue(out var block))
        {
            block = new RetainableBuffer(this);
        }

        block.HandOut(ArrayPool<byte>.Shared.Rent(minBufferSize < 0 ? DefaultSize : minBufferSize));
        return block;
    }

    /// <summary>The block's last holder let go of it.</summary>
    internal void Return(RetainableBuffer block)
    {
        ArrayPool<byte>.Shared.Return(block.TakeArray());
        if (_spares.Count < MaxSpares)
        {
            _spares.Enqueue(block);
        }
    }

    protected override void Dispose(bool disposing)
    {
        // Blocks still held go back to the shared array pool, or to the collector, through their holders.
    }
}
