using System.Runtime.InteropServices;

namespace RpcGen.Transport.SharedMemory;

/// <summary>
/// Linux futex wait and wake on a word in shared memory. Non-private operations (no
/// FUTEX_PRIVATE_FLAG): the kernel keys them by file and offset, so a wake in one process reaches a
/// waiter in another that mapped the same window. A wait always has a timeout, so a waiter comes back
/// to check for local shutdown even if nobody ever wakes it.
/// </summary>
internal static unsafe class Futex
{
    /// <summary>Sleeps while <c>*word == expected</c>, at most <paramref name="timeout"/>. Returns on wake, timeout, signal, or a changed word.</summary>
    public static void Wait(int* word, int expected, TimeSpan timeout)
    {
        var ticks = Math.Max(timeout.Ticks, 0);
        var spec = new LibC.Timespec { Seconds = ticks / TimeSpan.TicksPerSecond, Nanoseconds = ticks % TimeSpan.TicksPerSecond * 100 };
        var result = LibC.Futex(LibC.SysFutex, word, LibC.FutexWait, expected, &spec, null, 0);
        if (result != 0)
        {
            var errno = Marshal.GetLastPInvokeError();
            if (errno is not (LibC.EAgain or LibC.EIntr or LibC.ETimedOut))
            {
                throw LibC.Failure("FUTEX_WAIT");
            }
        }
    }

    /// <summary>Wakes up to <paramref name="count"/> waiters on <paramref name="word"/>.</summary>
    public static void Wake(int* word, int count) => LibC.Futex(LibC.SysFutex, word, LibC.FutexWake, count, null, null, 0);
}
