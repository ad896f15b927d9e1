using System.Buffers;
using System.Runtime.InteropServices;

namespace RpcGen.Buffers;

/// <summary>
/// One block of a <see cref="RetainableBufferPool"/>: a pooled array that a receiving pipe's segment
/// holds, and that a received stream chunk parsed from it may go on holding after the pipe let go of
/// it (<see cref="TryRetain"/>), so the chunk is the received bytes themselves instead of a copy.
/// </summary>
/// <remarks>
/// Holders are counted: the pipe's segment from <see cref="RetainableBufferPool.Rent"/> until the pipe
/// disposes it, plus each chunk retained, until its consumer calls <see cref="Release"/>. The last
/// holder gives the block back to its pool, so the array is reused only when nobody reads it any more.
/// A chunk that is never released (its stream abandoned) leaves its block to the garbage collector.
/// <see cref="MemoryManager{T}.TryGetArray"/> is not overridden (it says false), so no code that
/// returns arrays of received chunks to <see cref="ArrayPool{T}"/> can return this one behind the count.
/// </remarks>
internal sealed class RetainableBuffer : MemoryManager<byte>
{
    private readonly RetainableBufferPool _pool;

    // Set by the pool each time it hands the block out, taken back (to ArrayPool<byte>.Shared) when
    // the last holder lets go: a spare block holds no array.
    private byte[] _array = [];
    private int _holders;

    public RetainableBuffer(RetainableBufferPool pool) => _pool = pool;

    /// <summary>The pool hands the block out with <paramref name="array"/>: one holder, the renter.</summary>
    internal void HandOut(byte[] array)
    {
        _array = array;
        Volatile.Write(ref _holders, 1);
    }

    /// <summary>The last holder let go: the array goes back to the shared array pool, and the block holds none.</summary>
    internal byte[] TakeArray()
    {
        var array = _array;
        _array = [];
        return array;
    }

    /// <summary>
    /// Holds the block for a chunk of <paramref name="length"/> bytes read from it, when the chunk is at
    /// least half the block: a small chunk is copied instead, so what retained chunks hold is at most
    /// twice their own bytes (no more than a pooled array rounded up to a power of two). The caller
    /// must hold the block already (its pipe segment is not yet consumed).
    /// </summary>
    public bool TryRetain(int length)
    {
        if (length * 2L < _array.Length)
        {
            return false;
        }

        Interlocked.Increment(ref _holders);
        return true;
    }

    /// <summary>One holder is done with the block; the last gives it back to its pool.</summary>
    public void Release()
    {
        if (Interlocked.Decrement(ref _holders) == 0)
        {
            _pool.Return(this);
        }
    }

    public override Span<byte> GetSpan() => _array;

    public override unsafe MemoryHandle Pin(int elementIndex = 0)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(elementIndex);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(elementIndex, _array.Length);
        var handle = GCHandle.Alloc(_array, GCHandleType.Pinned);
        return new MemoryHandle((byte*)handle.AddrOfPinnedObject() + elementIndex, handle);
    }

    public override void Unpin()
    {
        // The handle Pin returned frees itself when disposed.
    }

    /// <summary>The pipe's segment let go of the block (it disposes its memory owner).</summary>
    protected override void Dispose(bool disposing) => Release();
}
