using System.Globalization;
using System.Text;

namespace RpcGen.Benchmarks.SharedMemory;

/// <summary>
/// Counts a process's context switches (voluntary and involuntary, over all its threads, from
/// <c>/proc/PID/task/*/status</c>). Per call, it shows where a round trip waits: a hand-off caught by
/// spinning costs none; a thread that went to sleep (futex, thread-pool park) costs one to wake.
/// Threads that exit between two readings drop out of the count, so take both readings while the
/// measured threads live. Each reading also holds the thread's CPU time (user + system, from
/// <c>/proc/PID/task/*/stat</c>, in clock ticks of 10 ms), which shows who burns the cores: a
/// spinning thread costs no switches but all of a core.
/// </summary>
internal static class ContextSwitches
{
    // Clock ticks per second of the times in /proc/PID/task/*/stat (USER_HZ, 100 on Linux).
    private const double TicksPerSecond = 100;

    /// <summary>Each thread's name (<c>comm</c>, at most 15 characters), switches and CPU ticks so far, by thread id.</summary>
    public static Dictionary<int, (string Name, long Switches, long CpuTicks)> PerThread(int processId)
    {
        var threads = new Dictionary<int, (string Name, long Switches, long CpuTicks)>();
        foreach (var task in Directory.EnumerateDirectories($"/proc/{processId}/task"))
        {
            try
            {
                long switches = 0;
                foreach (var line in File.ReadLines(Path.Combine(task, "status")))
                {
                    if (line.StartsWith("voluntary_ctxt_switches:", StringComparison.Ordinal) || line.StartsWith("nonvoluntary_ctxt_switches:", StringComparison.Ordinal))
                    {
                        switches += long.Parse(line.AsSpan(line.IndexOf(':') + 1).Trim(), CultureInfo.InvariantCulture);
                    }
                }

                var name = File.ReadAllText(Path.Combine(task, "comm")).Trim();
                threads[int.Parse(Path.GetFileName(task), CultureInfo.InvariantCulture)] = (name, switches, CpuTicks(File.ReadAllText(Path.Combine(task, "stat"))));
            }
            catch (IOException)
            {
                // The thread exited while we listed them.
            }
        }

        return threads;
    }

    /// <summary>
    /// Switches per call between two <see cref="PerThread"/> readings, summed by thread name (pool
    /// threads share one), largest first, leaving out names under 0.01 per call: who slept and was
    /// woken, for <c>--threads</c>.
    /// </summary>
    public static string Breakdown(Dictionary<int, (string Name, long Switches, long CpuTicks)> before, Dictionary<int, (string Name, long Switches, long CpuTicks)> after, int calls) =>
        ByName(before, after, static thread => thread.Switches, 1.0 / calls, minimum: 0.01);

    /// <summary>
    /// CPU microseconds per call between two <see cref="PerThread"/> readings, summed by thread name,
    /// largest first, leaving out names under 0.05 µs per call, then the process's total: where the
    /// cores went, for <c>--threads</c>.
    /// </summary>
    public static string CpuBreakdown(Dictionary<int, (string Name, long Switches, long CpuTicks)> before, Dictionary<int, (string Name, long Switches, long CpuTicks)> after, int calls) =>
        string.Create(CultureInfo.InvariantCulture, $"{ByName(before, after, static thread => thread.CpuTicks, 1e6 / TicksPerSecond / calls, minimum: 0.05)} (total {CpuMicros(before, after) / calls:F2})");

    /// <summary>CPU microseconds all threads of the process used between two <see cref="PerThread"/> readings (threads that exited meanwhile drop out).</summary>
    public static double CpuMicros(Dictionary<int, (string Name, long Switches, long CpuTicks)> before, Dictionary<int, (string Name, long Switches, long CpuTicks)> after) =>
        after.Sum(entry => entry.Value.CpuTicks - (before.TryGetValue(entry.Key, out var seen) ? seen.CpuTicks : 0)) * 1e6 / TicksPerSecond;

    private static string ByName(Dictionary<int, (string Name, long Switches, long CpuTicks)> before, Dictionary<int, (string Name, long Switches, long CpuTicks)> after, Func<(string Name, long Switches, long CpuTicks), long> count, double scale, double minimum)
    {
        var byName = new Dictionary<string, long>();
        foreach (var (id, thread) in after)
        {
            var earlier = before.TryGetValue(id, out var seen) ? count(seen) : 0;
            byName[thread.Name] = byName.GetValueOrDefault(thread.Name) + count(thread) - earlier;
        }

        var text = new StringBuilder();
        foreach (var (name, value) in byName.OrderByDescending(entry => entry.Value))
        {
            var perCall = value * scale;
            if (perCall >= minimum)
            {
                text.Append(CultureInfo.InvariantCulture, $"{(text.Length == 0 ? "" : ", ")}{name} {perCall:F2}");
            }
        }

        return text.Length == 0 ? "none" : text.ToString();
    }

    /// <summary>utime + stime of one <c>stat</c> line: fields 14 and 15, counted after the name, which is in parentheses and may hold spaces.</summary>
    private static long CpuTicks(string stat)
    {
        var fields = stat[(stat.LastIndexOf(')') + 2)..].Split(' ');

        // fields[0] is field 3 (state), so utime (14) and stime (15) are fields[11] and fields[12].
        return long.Parse(fields[11], CultureInfo.InvariantCulture) + long.Parse(fields[12], CultureInfo.InvariantCulture);
    }
}
