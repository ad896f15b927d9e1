namespace RpcGen.Transport.SharedMemory;

/// <summary>
/// One <c>mmap</c> of a range of a memory file, read-write and shared. The range was checked against
/// the file's sealed length before mapping, so every address in [<see cref="Address"/>,
/// <see cref="Address"/> + <see cref="Length"/>) stays valid until <see cref="Dispose"/>, which the
/// owner calls only after every thread using the mapping has stopped.
/// </summary>
internal sealed unsafe class SharedMapping : IDisposable
{
    private byte* _address;

    private SharedMapping(byte* address, int length)
    {
        _address = address;
        Length = length;
    }

    public byte* Address => _address != null ? _address : throw new ObjectDisposedException(nameof(SharedMapping));

    public int Length { get; }

    public static SharedMapping Map(PacketWindowDescriptor window)
    {
        if (window.Offset < 0 || window.Offset % Environment.SystemPageSize != 0 || window.Length < Environment.SystemPageSize || window.Length % Environment.SystemPageSize != 0)
        {
            throw new ArgumentException($"A packet window must be page-aligned and whole pages long; got offset {window.Offset}, length {window.Length}.", nameof(window));
        }

        var address = LibC.Mmap(null, (nuint)window.Length, LibC.ProtRead | LibC.ProtWrite, LibC.MapShared, window.FileDescriptor, window.Offset);
        if (address == (void*)-1)
        {
            throw LibC.Failure("mmap of the packet window");
        }

        return new SharedMapping((byte*)address, window.Length);
    }

    /// <summary>
    /// Frees the file's pages behind [<paramref name="offset"/>, <paramref name="offset"/> +
    /// <paramref name="length"/>) of this mapping (page-aligned; their contents read as zeros after):
    /// the memory file outlives the mapping while the peer keeps its descriptor, and the pages this
    /// process wrote would otherwise stay charged to it. Best effort: false when the kernel refused.
    /// </summary>
    public bool DiscardPages(long offset, long length) =>
        offset >= 0 && length >= 0 && offset + length <= Length
            ? LibC.Madvise(Address + offset, (nuint)length, LibC.MadvRemove) == 0
            : throw new ArgumentOutOfRangeException(nameof(length), $"[{offset}, {offset + length}) is not within the {Length}-byte mapping.");

    public void Dispose()
    {
        var address = _address;
        _address = null;
        if (address != null)
        {
            LibC.Munmap(address, (nuint)Length);
        }
    }
}
