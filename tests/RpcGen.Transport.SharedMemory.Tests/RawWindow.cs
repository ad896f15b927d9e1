using System.IO.MemoryMappedFiles;

namespace RpcGen.Transport.SharedMemory.Tests;

/// <summary>
/// A hostile peer's own view of a packet window: the test maps the memory file again through
/// <c>/proc/self/fd/N</c> and writes the header and datagram directly, as another process could.
/// </summary>
internal sealed class RawWindow : IDisposable
{
    private readonly MemoryMappedFile _file;
    private readonly MemoryMappedViewAccessor _view;

    public RawWindow(int fd, long offset, int length)
    {
        _file = MemoryMappedFile.CreateFromFile($"/proc/self/fd/{fd}", FileMode.Open, null, 0, MemoryMappedFileAccess.ReadWrite);
        _view = _file.CreateViewAccessor(offset, length);
    }

    public RawWindow(PacketWindowDescriptor window)
        : this(window.FileDescriptor, window.Offset, window.Length)
    {
    }

    public int State
    {
        get => _view.ReadInt32(0);
        set => _view.Write(0, value);
    }

    public uint Length
    {
        get => _view.ReadUInt32(4);
        set => _view.Write(4, value);
    }

    /// <summary>Copies the first <paramref name="length"/> datagram bytes out of the window.</summary>
    public byte[] ReadData(int length)
    {
        var data = new byte[length];
        _view.ReadArray(PacketHeader.Bytes, data, 0, length);
        return data;
    }

    public void Dispose()
    {
        _view.Dispose();
        _file.Dispose();
    }
}
