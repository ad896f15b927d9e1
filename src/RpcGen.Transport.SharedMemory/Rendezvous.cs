using System.Buffers.Binary;
using System.Net.Sockets;

namespace RpcGen.Transport.SharedMemory;

/// <summary>
/// The one message the rendezvous socket carries: the server tells a new client where its windows
/// are and passes the memory file's descriptor with it (<c>SCM_RIGHTS</c>). After that the
/// socket carries nothing; it stays open only so each side learns at once when the other is gone.
/// <code>
/// offset 0  uint32 magic "RSHM" (0x4D485352)
/// offset 4  uint32 version, 2
/// offset 8  uint32 window length in bytes (every window)
/// offset 12 uint32 windows per direction, K
/// offset 16 uint64 file offset of the first window; K client-to-server windows, then K
///                  server-to-client windows, follow one another from there
/// ancillary: exactly one file descriptor
/// </code>
/// The client checks every field (a hostile server could send anything): magic and version, a
/// window of whole pages within <see cref="SharedMemoryOptions.MaxWindowBytes"/>, a window count
/// within <see cref="SharedMemoryOptions.MaxWindowsPerDirection"/> whose 2K windows together fit
/// <see cref="SharedMemoryOptions.MaxMappingBytes"/>, a page-aligned offset, and a file sealed
/// against shrinking that holds all 2K windows (see <see cref="MemoryFile.Adopt"/>).
/// </summary>
internal static class Rendezvous
{
    public const int HelloBytes = 24;
    private const uint Magic = 0x4D485352;
    private const uint Version = 2;

    /// <summary>Sends the hello with <paramref name="fd"/> attached. The socket's send buffer is empty at this point, so the non-blocking send completes.</summary>
    public static unsafe void SendHello(Socket socket, int fd, int windowBytes, int windowsPerDirection, long offset)
    {
        Span<byte> hello = stackalloc byte[HelloBytes];
        hello.Clear();
        BinaryPrimitives.WriteUInt32LittleEndian(hello, Magic);
        BinaryPrimitives.WriteUInt32LittleEndian(hello[4..], Version);
        BinaryPrimitives.WriteUInt32LittleEndian(hello[8..], (uint)windowBytes);
        BinaryPrimitives.WriteUInt32LittleEndian(hello[12..], (uint)windowsPerDirection);
        BinaryPrimitives.WriteInt64LittleEndian(hello[16..], offset);
        fixed (byte* data = hello)
        {
            var iov = new LibC.IoVec { Base = data, Length = HelloBytes };
            var control = new LibC.FdControlMessage { Length = LibC.FdControlMessageLength, Level = LibC.SolSocket, Type = LibC.ScmRights, Fd = fd };
            var message = new LibC.MsgHdr { Iov = &iov, IovLength = 1, Control = &control, ControlLength = (nuint)sizeof(LibC.FdControlMessage) };
            var sent = LibC.SendMsg(socket.SafeHandle.DangerousGetHandle(), &message, LibC.MsgDontWait | LibC.MsgNoSignal);
            if (sent != HelloBytes)
            {
                throw sent < 0 ? LibC.Failure("sendmsg of the memory file") : new IOException($"sendmsg sent {sent} of {HelloBytes} hello bytes.");
            }
        }
    }

    /// <summary>The window layout a server announced, with the adopted (validated) memory file.</summary>
    public readonly record struct Hello(MemoryFile File, int WindowBytes, int WindowsPerDirection, long Offset)
    {
        /// <summary>The length of all 2K windows together, from <see cref="Offset"/>.</summary>
        public int MappingBytes => (int)SharedMemoryOptions.MappedBytes(WindowsPerDirection, WindowBytes);
    }

    /// <summary>Waits (bounded by <paramref name="cancellationToken"/>) for the hello, then receives and validates it.</summary>
    /// <exception cref="InvalidDataException">The server sent something other than a valid hello.</exception>
    public static async Task<Hello> ReceiveHelloAsync(Socket socket, CancellationToken cancellationToken)
    {
        // A zero-byte receive completes when data is there, without consuming it.
        await socket.ReceiveAsync(Memory<byte>.Empty, SocketFlags.None, cancellationToken).ConfigureAwait(false);
        return ReceiveHelloNow(socket);
    }

    // Room for a control message with a few descriptors, so a hello that carries more than one is
    // seen as such: the kernel installs every descriptor that fits (and discards the rest), and each
    // one installed here must be closed, whether or not the hello is kept.
    private const int MaxDescriptorsSeen = 8;
    private const int ControlHeaderBytes = 16;
    private const int ControlBytes = ControlHeaderBytes + (MaxDescriptorsSeen * sizeof(int));

    /// <summary>Receives and validates the hello that is waiting on <paramref name="socket"/> now (internal for the <c>handshakes</c> fuzz harness).</summary>
    internal static unsafe Hello ReceiveHelloNow(Socket socket)
    {
        var hello = new byte[HelloBytes];
        Span<int> descriptors = stackalloc int[MaxDescriptorsSeen];
        int descriptorCount;
        nint received;
        int flags;
        var control = stackalloc ulong[ControlBytes / sizeof(ulong)];
        fixed (byte* data = hello)
        {
            var iov = new LibC.IoVec { Base = data, Length = HelloBytes };
            var message = new LibC.MsgHdr { Iov = &iov, IovLength = 1, Control = control, ControlLength = ControlBytes };
            received = LibC.RecvMsg(socket.SafeHandle.DangerousGetHandle(), &message, LibC.MsgDontWait | LibC.MsgCmsgCloexec);
            if (received < 0)
            {
                throw LibC.Failure("recvmsg of the memory file");
            }

            flags = message.Flags;
            descriptorCount = TakeDescriptors(new ReadOnlySpan<byte>(control, (int)Math.Min(message.ControlLength, (nuint)ControlBytes)), descriptors);
        }

        var fd = descriptorCount == 1 ? descriptors[0] : -1;
        const int MsgCtrunc = 8;
        var magic = BinaryPrimitives.ReadUInt32LittleEndian(hello);
        var version = BinaryPrimitives.ReadUInt32LittleEndian(hello.AsSpan(4));
        var windowBytes = BinaryPrimitives.ReadUInt32LittleEndian(hello.AsSpan(8));
        var windowCount = BinaryPrimitives.ReadUInt32LittleEndian(hello.AsSpan(12));
        var offset = BinaryPrimitives.ReadInt64LittleEndian(hello.AsSpan(16));
        var page = (uint)Environment.SystemPageSize;
        string? problem = received != HelloBytes ? $"{received} hello bytes instead of {HelloBytes}"
            : (flags & MsgCtrunc) != 0 ? "more ancillary data than one descriptor"
            : descriptorCount == 0 ? "no file descriptor"
            : descriptorCount > 1 ? $"{descriptorCount} file descriptors instead of one"
            : magic != Magic || version != Version ? $"magic 0x{magic:x8} version {version}"
            : windowBytes < page || windowBytes > SharedMemoryOptions.MaxWindowBytes || windowBytes % page != 0 ? $"window length {windowBytes}"
            : windowCount < 1 || windowCount > SharedMemoryOptions.MaxWindowsPerDirection || !SharedMemoryOptions.FitsMapping(windowCount, windowBytes) ? $"window count {windowCount} of {windowBytes} bytes each"
            : offset < 0 || offset % page != 0 || offset > long.MaxValue / 2 ? $"window offset {offset}"
            : null;
        if (problem is not null)
        {
            foreach (var descriptor in descriptors[..descriptorCount])
            {
                LibC.Close(descriptor);
            }

            throw new InvalidDataException($"The shared-memory server sent an invalid hello: {problem}.");
        }

        var mappingBytes = SharedMemoryOptions.MappedBytes(windowCount, windowBytes);
        return new Hello(MemoryFile.Adopt(fd, offset + mappingBytes), (int)windowBytes, (int)windowCount, offset);
    }

    /// <summary>
    /// Copies the descriptors of every <c>SCM_RIGHTS</c> message in <paramref name="control"/> (as the
    /// kernel wrote it) into <paramref name="descriptors"/> and returns how many there are; any beyond
    /// its room are closed at once.
    /// </summary>
    private static int TakeDescriptors(ReadOnlySpan<byte> control, Span<int> descriptors)
    {
        var count = 0;
        var offset = 0;
        while (offset + ControlHeaderBytes <= control.Length)
        {
            var length = (long)BinaryPrimitives.ReadUInt64LittleEndian(control[offset..]);
            if (length < ControlHeaderBytes || length > control.Length - offset)
            {
                break;
            }

            var level = BinaryPrimitives.ReadInt32LittleEndian(control[(offset + 8)..]);
            var type = BinaryPrimitives.ReadInt32LittleEndian(control[(offset + 12)..]);
            if (level == LibC.SolSocket && type == LibC.ScmRights)
            {
                for (var at = offset + ControlHeaderBytes; at + sizeof(int) <= offset + length; at += sizeof(int))
                {
                    var fd = BinaryPrimitives.ReadInt32LittleEndian(control[at..]);
                    if (count < descriptors.Length)
                    {
                        descriptors[count++] = fd;
                    }
                    else
                    {
                        LibC.Close(fd);
                    }
                }
            }

            // Each control message starts at the next multiple of eight bytes.
            offset += (int)((length + 7) & ~7L);
        }

        return count;
    }
}
