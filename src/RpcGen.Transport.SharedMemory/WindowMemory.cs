using System.Buffers;

namespace RpcGen.Transport.SharedMemory;

/// <summary>
/// The datagram area of one mapped send window as <see cref="Memory{T}"/>, so a protocol that asks
/// <see cref="WindowWriter.GetMemory"/> for memory writes straight into shared memory. The memory is
/// unmanaged and stays mapped until the link has parked its writer (see <see cref="WindowWriter.ParkAsync"/>),
/// so pinning needs nothing; a protocol must not touch it after <c>Advance</c>, as with any
/// <see cref="System.IO.Pipelines.PipeWriter"/>.
/// </summary>
internal sealed unsafe class WindowMemory(byte* data, int length) : MemoryManager<byte>
{
    public override Span<byte> GetSpan() => new(data, length);

    public override MemoryHandle Pin(int elementIndex = 0)
    {
        if ((uint)elementIndex > (uint)length)
        {
            throw new ArgumentOutOfRangeException(nameof(elementIndex));
        }

        return new MemoryHandle(data + elementIndex);
    }

    public override void Unpin()
    {
    }

    protected override void Dispose(bool disposing)
    {
    }
}
