using System.Runtime.InteropServices;

namespace RpcGen.Benchmarks.SharedMemory;

/// <summary>
/// Pins the calling thread to one CPU (Linux <c>sched_setaffinity</c> on thread id 0, the caller), so
/// the in-process floors of a pinned run put their two sides on different cores the way
/// <c>taskset</c> puts the two processes of the RPC cells.
/// </summary>
internal static unsafe partial class CpuPinning
{
    public static void PinCurrentThread(int cpu)
    {
        var mask = 1UL << cpu;
        if (SchedSetAffinity(0, sizeof(ulong), &mask) != 0)
        {
            throw new InvalidOperationException($"sched_setaffinity to CPU {cpu} failed: errno {Marshal.GetLastPInvokeError()}.");
        }
    }

    [LibraryImport("libc", EntryPoint = "sched_setaffinity", SetLastError = true)]
    private static partial int SchedSetAffinity(int pid, nint cpuSetSize, ulong* mask);
}
