using System.Runtime.InteropServices;

namespace RpcGen.Soak;

/// <summary>
/// Sleeps for less than a millisecond: <c>nanosleep</c> (Linux high-resolution timers, ~50 µs of timer
/// slack), where .NET's own sleeps and timers count whole milliseconds. The thread sleeps in the kernel,
/// so a paced generator waiting 250 µs between calls costs a wake-up per call, not a spinning core.
/// </summary>
public static partial class PreciseSleep
{
    /// <summary>
    /// Blocks the calling thread for about <paramref name="time"/> (at least that long). Off Linux it
    /// sleeps whole milliseconds, rounded up, so the promise of "at least" holds everywhere.
    /// </summary>
    public static void For(TimeSpan time)
    {
        if (!OperatingSystem.IsLinux())
        {
            Thread.Sleep(TimeSpan.FromMilliseconds(Math.Ceiling(Math.Max(0, time.TotalMilliseconds))));
            return;
        }

        var nanoseconds = Math.Max(0, time.Ticks) * 100;
        var request = new TimeSpec(nanoseconds / 1_000_000_000, nanoseconds % 1_000_000_000);

        // Interrupted by a signal (EINTR), it sleeps what is left.
        while (NanoSleep(in request, out var remaining) != 0 && Marshal.GetLastPInvokeError() == EINTR)
        {
            request = remaining;
        }
    }

    private const int EINTR = 4;

    [StructLayout(LayoutKind.Sequential)]
    private readonly record struct TimeSpec(long Seconds, long Nanoseconds);

    [LibraryImport("libc", EntryPoint = "nanosleep", SetLastError = true)]
    private static partial int NanoSleep(in TimeSpec request, out TimeSpec remaining);
}
