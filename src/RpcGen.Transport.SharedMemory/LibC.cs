using System.Runtime.InteropServices;

namespace RpcGen.Transport.SharedMemory;

/// <summary>
/// The Linux system calls this transport needs, as source-generated P/Invoke (NativeAOT-clean).
/// Constants are the x86_64 / generic Linux values. Every call reports failure through
/// <see cref="Marshal.GetLastPInvokeError"/>; callers turn that into an exception that says which call failed.
/// </summary>
internal static unsafe partial class LibC
{
    public const long SysFutex = 202;
    public const int FutexWait = 0;
    public const int FutexWake = 1;

    public const int ProtRead = 1;
    public const int ProtWrite = 2;
    public const int MapShared = 1;

    public const uint MfdCloexec = 1;
    public const uint MfdAllowSealing = 2;

    public const int FAddSeals = 1033;
    public const int FGetSeals = 1034;
    public const int SealSeal = 1;
    public const int SealShrink = 2;

    public const int SeekEnd = 2;

    public const int SolSocket = 1;
    public const int ScmRights = 1;
    public const int MsgDontWait = 0x40;
    public const int MsgNoSignal = 0x4000;
    public const int MsgCmsgCloexec = 0x40000000;

    public const int EAgain = 11;
    public const int EIntr = 4;
    public const int ETimedOut = 110;

    [StructLayout(LayoutKind.Sequential)]
    public struct Timespec
    {
        public long Seconds;
        public long Nanoseconds;
    }

    [StructLayout(LayoutKind.Sequential)]
    public struct IoVec
    {
        public void* Base;
        public nuint Length;
    }

    [StructLayout(LayoutKind.Sequential)]
    public struct MsgHdr
    {
        public void* Name;
        public uint NameLength;
        public IoVec* Iov;
        public nuint IovLength;
        public void* Control;
        public nuint ControlLength;
        public int Flags;
    }

    /// <summary>struct cmsghdr carrying one file descriptor: CMSG_LEN(4) = 20, CMSG_SPACE(4) = 24.</summary>
    [StructLayout(LayoutKind.Sequential)]
    public struct FdControlMessage
    {
        public nuint Length;
        public int Level;
        public int Type;
        public int Fd;
        public int Padding;
    }

    public const int FdControlMessageLength = 20;

    // futex(uaddr, op, val, timeout, uaddr2, val3) through syscall(2): glibc has no wrapper.
    [LibraryImport("libc", EntryPoint = "syscall", SetLastError = true)]
    public static partial long Futex(long number, int* address, int operation, int value, Timespec* timeout, void* address2, int value3);

    [LibraryImport("libc", EntryPoint = "memfd_create", SetLastError = true, StringMarshalling = StringMarshalling.Utf8)]
    public static partial int MemfdCreate(string name, uint flags);

    [LibraryImport("libc", EntryPoint = "ftruncate", SetLastError = true)]
    public static partial int Ftruncate(int fd, long length);

    [LibraryImport("libc", EntryPoint = "lseek", SetLastError = true)]
    public static partial long Lseek(int fd, long offset, int whence);

    [LibraryImport("libc", EntryPoint = "fcntl", SetLastError = true)]
    public static partial int Fcntl(int fd, int command, int argument);

    [LibraryImport("libc", EntryPoint = "fstatfs", SetLastError = true)]
    public static partial int Fstatfs(int fd, byte* buffer);

    /// <summary>Bytes of <c>struct statfs</c> on x64 Linux (120), rounded up; its first field is the file system type.</summary>
    public const int StatfsBytes = 128;

    /// <summary><c>TMPFS_MAGIC</c>: where <c>memfd_create</c> files live unless made with <c>MFD_HUGETLB</c> (those are on hugetlbfs).</summary>
    public const long TmpfsMagic = 0x01021994;

    [LibraryImport("libc", EntryPoint = "close", SetLastError = true)]
    public static partial int Close(int fd);

    [LibraryImport("libc", EntryPoint = "mmap", SetLastError = true)]
    public static partial void* Mmap(void* address, nuint length, int protection, int flags, int fd, long offset);

    [LibraryImport("libc", EntryPoint = "munmap", SetLastError = true)]
    public static partial int Munmap(void* address, nuint length);

    [LibraryImport("libc", EntryPoint = "madvise", SetLastError = true)]
    public static partial int Madvise(void* address, nuint length, int advice);

    /// <summary><c>MADV_REMOVE</c>: frees the pages behind a shared mapping of a tmpfs file (a hole punched in the file), whoever else maps it.</summary>
    public const int MadvRemove = 9;

    [LibraryImport("libc", EntryPoint = "sendmsg", SetLastError = true)]
    public static partial nint SendMsg(nint socket, MsgHdr* message, int flags);

    [LibraryImport("libc", EntryPoint = "recvmsg", SetLastError = true)]
    public static partial nint RecvMsg(nint socket, MsgHdr* message, int flags);

    /// <summary>An <see cref="IOException"/> naming the failed call and the errno it set.</summary>
    public static IOException Failure(string call) =>
        new($"{call} failed: {Marshal.GetPInvokeErrorMessage(Marshal.GetLastPInvokeError())} (errno {Marshal.GetLastPInvokeError()})");
}
