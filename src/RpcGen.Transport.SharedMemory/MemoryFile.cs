namespace RpcGen.Transport.SharedMemory;

/// <summary>
/// An anonymous shared memory file (<c>memfd_create</c>) of a fixed size, sealed so nobody holding
/// its descriptor can shrink it: a mapping of it can then never fault past the end (SIGBUS), whatever
/// the peer does with its copy of the descriptor. Owns the descriptor; closing it leaves existing
/// mappings valid.
/// </summary>
internal sealed class MemoryFile : IDisposable
{
    private int _fd;

    private MemoryFile(int fd, long length)
    {
        _fd = fd;
        Length = length;
    }

    public int FileDescriptor => _fd >= 0 ? _fd : throw new ObjectDisposedException(nameof(MemoryFile));

    public long Length { get; }

    /// <summary>Creates a zero-filled file of <paramref name="length"/> bytes, sealed against shrinking.</summary>
    public static MemoryFile Create(string name, long length)
    {
        var fd = LibC.MemfdCreate(name, LibC.MfdCloexec | LibC.MfdAllowSealing);
        if (fd < 0)
        {
            throw LibC.Failure("memfd_create");
        }

        if (LibC.Ftruncate(fd, length) != 0 || LibC.Fcntl(fd, LibC.FAddSeals, LibC.SealShrink | LibC.SealSeal) != 0)
        {
            var error = LibC.Failure("sizing and sealing the memory file");
            LibC.Close(fd);
            throw error;
        }

        return new MemoryFile(fd, length);
    }

    /// <summary>
    /// Adopts a descriptor received from a peer after checking what a hostile peer could get wrong:
    /// it must be a memfd on tmpfs (not hugetlbfs), sealed against shrinking, and at least
    /// <paramref name="requiredLength"/> long.
    /// Closes the descriptor and throws <see cref="InvalidDataException"/> otherwise.
    /// </summary>
    public static MemoryFile Adopt(int fd, long requiredLength)
    {
        var seals = LibC.Fcntl(fd, LibC.FGetSeals, 0);
        var length = LibC.Lseek(fd, 0, LibC.SeekEnd);
        if (seals < 0 || (seals & LibC.SealShrink) == 0 || length < requiredLength)
        {
            LibC.Close(fd);
            throw new InvalidDataException($"The peer's memory file is not usable: seals {seals}, length {length}, needed a shrink seal and {requiredLength} bytes.");
        }

        // A file on another file system maps in other units: a hugetlbfs memfd is mapped in huge
        // pages, so the mapping would be longer than the windows and unmapping only their length
        // would fail and leave it behind.
        var fileSystem = FileSystemType(fd);
        if (fileSystem != LibC.TmpfsMagic)
        {
            LibC.Close(fd);
            throw new InvalidDataException($"The peer's memory file is not usable: it is on file system type 0x{fileSystem:x}, not on tmpfs as a memfd_create file without huge pages is.");
        }

        return new MemoryFile(fd, length);
    }

    /// <summary>The type of the file system <paramref name="fd"/> is on (<c>f_type</c> of <c>fstatfs</c>), or -1 when that cannot be told.</summary>
    private static unsafe long FileSystemType(int fd)
    {
        var buffer = stackalloc byte[LibC.StatfsBytes];
        return LibC.Fstatfs(fd, buffer) == 0 ? *(long*)buffer : -1;
    }

    public void Dispose()
    {
        var fd = Interlocked.Exchange(ref _fd, -1);
        if (fd >= 0)
        {
            LibC.Close(fd);
        }
    }
}
