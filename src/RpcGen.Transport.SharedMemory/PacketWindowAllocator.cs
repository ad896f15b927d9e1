namespace RpcGen.Transport.SharedMemory;

/// <summary>
/// Owns a shared memory file and hands out page-aligned packet windows from it (flipcall's
/// <c>PacketWindowAllocator</c>). The file is created zero-filled and sealed against shrinking, so a
/// window's header starts in the client-active state and no holder of the descriptor can make a
/// mapping fault. Windows are never handed out twice while allocated; a released window is zeroed
/// again before reuse, because the last peer may have left anything in it.
/// Thread-safe; the descriptor is what is sent to the peer (<see cref="FileDescriptor"/>).
/// </summary>
public sealed unsafe class PacketWindowAllocator : IDisposable
{
    /// <summary>
    /// The default window length: 68 KiB (17 pages), header included. Sized so that a 64 KiB stream
    /// chunk in its frame (65,568 bytes for the message transport) travels in one hand-off: with
    /// 64 KiB windows (65,520 data bytes) every chunk took a full window plus one of 48 bytes, two
    /// hand-offs and up to two wakes per chunk, and four windows held only two chunks.
    /// </summary>
    public const int DefaultWindowBytes = 68 * 1024;

    private readonly MemoryFile _file;
    private readonly object _gate = new();
    private readonly Stack<long> _released = new();
    private readonly int _windowBytes;
    private long _next;

    /// <summary>Creates a file holding up to <paramref name="windowCount"/> windows of <paramref name="windowBytes"/> each.</summary>
    /// <exception cref="ArgumentOutOfRangeException">A window that is not whole pages, or no windows.</exception>
    /// <exception cref="IOException">The system refused the memory file.</exception>
    public PacketWindowAllocator(int windowCount, int windowBytes = DefaultWindowBytes)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(windowCount, 1);
        if (windowBytes < Environment.SystemPageSize || windowBytes % Environment.SystemPageSize != 0)
        {
            throw new ArgumentOutOfRangeException(nameof(windowBytes), windowBytes, $"A packet window is whole pages of {Environment.SystemPageSize} bytes.");
        }

        _windowBytes = windowBytes;
        _file = MemoryFile.Create("rpcgen-shm", (long)windowCount * windowBytes);
    }

    /// <summary>The memory file's descriptor in this process.</summary>
    public int FileDescriptor => _file.FileDescriptor;

    /// <summary>The memory file's length in bytes.</summary>
    public long FileLength => _file.Length;

    /// <summary>The length of every window this allocator hands out.</summary>
    public int WindowBytes => _windowBytes;

    /// <summary>Takes a free window; false when the file is full.</summary>
    public bool TryAllocate(out PacketWindowDescriptor window)
    {
        lock (_gate)
        {
            long offset;
            if (_released.Count > 0)
            {
                offset = _released.Pop();
            }
            else if (_next + _windowBytes <= _file.Length)
            {
                offset = _next;
                _next += _windowBytes;
            }
            else
            {
                window = default;
                return false;
            }

            window = new PacketWindowDescriptor(_file.FileDescriptor, offset, _windowBytes);
            return true;
        }
    }

    /// <summary>Takes <paramref name="count"/> adjacent free windows as one range (one mapping, one offset for the peer); false when the file has no such range left.</summary>
    public bool TryAllocateRange(int count, out PacketWindowDescriptor range)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(count, 1);
        lock (_gate)
        {
            var bytes = (long)count * _windowBytes;
            if (_next + bytes > _file.Length || bytes > int.MaxValue)
            {
                range = default;
                return false;
            }

            range = new PacketWindowDescriptor(_file.FileDescriptor, _next, (int)bytes);
            _next += bytes;
            return true;
        }
    }

    /// <summary>Returns a window taken with <see cref="TryAllocate"/>; zeroes it first. No endpoint may still use it.</summary>
    public void Release(PacketWindowDescriptor window)
    {
        if (window.FileDescriptor != _file.FileDescriptor || window.Length != _windowBytes || window.Offset % _windowBytes != 0 || window.Offset >= _next)
        {
            throw new ArgumentException("The window was not allocated here.", nameof(window));
        }

        using (var mapping = SharedMapping.Map(window))
        {
            new Span<byte>(mapping.Address, mapping.Length).Clear();
        }

        lock (_gate)
        {
            _released.Push(window.Offset);
        }
    }

    /// <summary>Closes this process's descriptor. Mappings made from it stay valid until their endpoints are disposed.</summary>
    public void Dispose() => _file.Dispose();
}
