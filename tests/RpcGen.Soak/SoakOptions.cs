namespace RpcGen.Soak;

/// <summary>What one soak run does and how much drift it forgives.</summary>
public sealed class SoakOptions
{
    /// <summary>The whole run; the mixed phase gets what the first phases leave of it, and at least 10 s.</summary>
    public TimeSpan Duration { get; set; } = TimeSpan.FromMinutes(1);

    /// <summary>tcp, unix, shm or flow (TLS is not wired in: it needs the test PKI of the message tests).</summary>
    public string Transport { get; set; } = "tcp";

    /// <summary>Calls held in flight together on one connection in the first phase.</summary>
    public int ConcurrentCalls { get; set; } = 10_000;

    public int Connections { get; set; } = 200;

    public int CallsPerConnection { get; set; } = 50;

    /// <summary>Loops issuing mixed calls at once in the mixed phase (plus one that kills and renews connections).</summary>
    public int MixedWorkers { get; set; } = 32;

    /// <summary>Sequential calls timed on an idle server for the unloaded p99.</summary>
    public int UnloadedSamples { get; set; } = 2_000;

    /// <summary>How far the managed heap may end above its baseline after a forced collection.</summary>
    public long ManagedToleranceBytes { get; set; } = 16L * 1024 * 1024;

    /// <summary>
    /// How far the working set may end above its baseline. It is looser than the managed heap's: the
    /// runtime keeps freed GC regions, pooled buffers and thread-pool threads' stacks for reuse.
    /// </summary>
    public long WorkingSetToleranceBytes { get; set; } = 128L * 1024 * 1024;

    /// <summary>How many more entries /proc/self/fd may hold at the end than at the baseline.</summary>
    public int DescriptorTolerance { get; set; } = 8;

    /// <summary>The soak verdict on latency: loaded p99 at most this many times the unloaded p99.</summary>
    public double LatencyRatioLimit { get; set; } = 3;
}
