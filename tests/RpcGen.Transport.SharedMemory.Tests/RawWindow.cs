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

    /// <summary>Writes <paramref name="data"/> at the start of the datagram area.</summary>
    public void WriteData(byte[] data) => _view.WriteArray(PacketHeader.Bytes, data, 0, data.Length);

    /// <summary>The header's last word: in a link's lane window, the doorbell of that direction's receiving thread.</summary>
    public int Doorbell
    {
        get => _view.ReadInt32(12);
        set => _view.Write(12, value);
    }

    public void Dispose()
    {
        _view.Dispose();
        _file.Dispose();
    }
}
