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
    public static long Of(int processId)
    {
        long total = 0;
        foreach (var task in Directory.EnumerateDirectories($"/proc/{processId}/task"))
        {
            try
            {
                foreach (var line in File.ReadLines(Path.Combine(task, "status")))
                {
                    if (line.StartsWith("voluntary_ctxt_switches:", StringComparison.Ordinal) || line.StartsWith("nonvoluntary_ctxt_switches:", StringComparison.Ordinal))
                    {
                        total += long.Parse(line.AsSpan(line.IndexOf(':') + 1).Trim(), System.Globalization.CultureInfo.InvariantCulture);
                    }
                }
            }
            catch (IOException)
            {
                // The thread exited while we listed them.
            }
        }

        return total;
    }
}
