namespace RpcGen.Soak;

/// <summary>What one soak run does and how much drift it forgives.</summary>
public sealed class SoakOptions
{
    /// <summary>The whole run; the mixed phase gets what the first phases leave of it, and at least 10 s.</summary>
    public TimeSpan Duration { get; set; } = TimeSpan.FromMinutes(1);

    /// <summary>tcp, tls (mutual TLS over TCP, with a throwaway CA made at start-up), unix, shm or flow.</summary>
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

    /// <summary>The soak verdict on latency: the paced p99 at most this many times the unloaded p99.</summary>
    public double LatencyRatioLimit { get; set; } = 3;

    /// <summary>
    /// The paced (open-loop) latency phase after the mixed one: unary calls started on a fixed schedule,
    /// beside a paced background of mixed calls. The mixed phase gets the duration minus this.
    /// </summary>
    public TimeSpan PacedDuration { get; set; } = TimeSpan.FromSeconds(20);

    /// <summary>The paced probe's rate, as a fraction of the unloaded sequential throughput (one call in flight).</summary>
    public double PacedProbeFraction { get; set; } = 0.25;

    /// <summary>The paced background's rate of mixed calls, as a fraction of the mixed phase's measured (saturated) throughput.</summary>
    public double PacedBackgroundFraction { get; set; } = 0.10;

    /// <summary>Profiles the paced phase's timed calls (<see cref="TailProfile"/>) and adds the profile to the report.</summary>
    public bool Profile { get; set; }
}
