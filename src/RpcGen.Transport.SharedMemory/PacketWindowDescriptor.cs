namespace RpcGen.Transport.SharedMemory;

/// <summary>
/// Where one packet window lives: a range of a shared memory file. Both processes describe the same
/// window with their own file descriptor; the offset and length are the same on both sides.
/// A window is page-aligned, at least one page long, and opens with a
/// <see cref="PacketHeader.Bytes"/>-byte header followed by the datagram.
/// </summary>
/// <param name="FileDescriptor">This process's descriptor of the memory file.</param>
/// <param name="Offset">Where the window starts in the file (a multiple of the page size).</param>
/// <param name="Length">The window's length in bytes, header included (a multiple of the page size).</param>
public readonly record struct PacketWindowDescriptor(int FileDescriptor, long Offset, int Length)
{
    /// <summary>How many datagram bytes the window holds (its length less the header).</summary>
    public int DataCapacity => Length - PacketHeader.Bytes;
}
