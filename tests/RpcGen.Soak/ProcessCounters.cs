using System.Diagnostics;
using System.Runtime.InteropServices;

namespace RpcGen.Soak;

/// <summary>
/// The whole process's CPU time and context switches (<c>getrusage(RUSAGE_SELF)</c>, every thread, the
/// ended ones included). Per call they say how much work and how many thread wake-ups a call costs,
/// which on a shared machine is steadier than its latency: each wake-up waits for a core there.
/// </summary>
public readonly partial record struct ProcessCounters(TimeSpan Cpu, long VoluntarySwitches, long InvoluntarySwitches)
{
    private const int RusageSelf = 0;

    /// <summary>The counters now; the switches are zero where <c>getrusage</c> is not available (not Linux).</summary>
    public static ProcessCounters Take()
    {
        var cpu = Process.GetCurrentProcess().TotalProcessorTime;
        if (!OperatingSystem.IsLinux() || GetRUsage(RusageSelf, out var usage) != 0)
        {
            return new ProcessCounters(cpu, 0, 0);
        }

        return new ProcessCounters(cpu, usage.VoluntarySwitches, usage.InvoluntarySwitches);
    }

    public static ProcessCounters operator -(ProcessCounters end, ProcessCounters start) =>
        new(end.Cpu - start.Cpu, end.VoluntarySwitches - start.VoluntarySwitches, end.InvoluntarySwitches - start.InvoluntarySwitches);

    // struct rusage on 64-bit Linux: two timevals, then fourteen longs (ru_nvcsw and ru_nivcsw last).
    [StructLayout(LayoutKind.Sequential)]
    private struct RUsage
    {
        public long UserSeconds;
        public long UserMicros;
        public long SystemSeconds;
        public long SystemMicros;
        public long MaxRss;
        public long SharedMemory;
        public long UnsharedData;
        public long UnsharedStack;
        public long MinorFaults;
        public long MajorFaults;
        public long Swaps;
        public long BlockInputs;
        public long BlockOutputs;
        public long MessagesSent;
        public long MessagesReceived;
        public long Signals;
        public long VoluntarySwitches;
        public long InvoluntarySwitches;
    }

    [LibraryImport("libc", EntryPoint = "getrusage")]
    private static partial int GetRUsage(int who, out RUsage usage);
}
