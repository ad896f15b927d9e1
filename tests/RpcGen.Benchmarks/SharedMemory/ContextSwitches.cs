using System.Globalization;
using System.Text;

namespace RpcGen.Benchmarks.SharedMemory;

/// <summary>
/// Counts a process's context switches (voluntary and involuntary, over all its threads, from
/// <c>/proc/PID/task/*/status</c>). Per call, it shows where a round trip waits: a hand-off caught by
/// spinning costs none; a thread that went to sleep (futex, thread-pool park) costs one to wake.
/// Threads that exit between two readings drop out of the count, so take both readings while the
/// measured threads live.
/// </summary>
internal static class ContextSwitches
{
    /// <summary>Each thread's name (<c>comm</c>, at most 15 characters) and switches so far, by thread id.</summary>
    public static Dictionary<int, (string Name, long Switches)> PerThread(int processId)
    {
        var threads = new Dictionary<int, (string Name, long Switches)>();
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
                threads[int.Parse(Path.GetFileName(task), CultureInfo.InvariantCulture)] = (name, switches);
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
    public static string Breakdown(Dictionary<int, (string Name, long Switches)> before, Dictionary<int, (string Name, long Switches)> after, int calls)
    {
        var byName = new Dictionary<string, long>();
        foreach (var (id, thread) in after)
        {
            var earlier = before.TryGetValue(id, out var seen) ? seen.Switches : 0;
            byName[thread.Name] = byName.GetValueOrDefault(thread.Name) + thread.Switches - earlier;
        }

        var text = new StringBuilder();
        foreach (var (name, switches) in byName.OrderByDescending(entry => entry.Value))
        {
            var perCall = switches / (double)calls;
            if (perCall >= 0.01)
            {
                text.Append(CultureInfo.InvariantCulture, $"{(text.Length == 0 ? "" : ", ")}{name} {perCall:F2}");
            }
        }

        return text.Length == 0 ? "none" : text.ToString();
    }
}
