using RpcGen.Benchmarks.Harness;

namespace RpcGen.Benchmarks.Capnp;

/// <summary>The figures of one <c>--capnp</c> cell: per-operation latency percentiles over every round.</summary>
public sealed record CapnpCell
{
    /// <summary>Who calls whom.</summary>
    public required CapnpPair Pair { get; init; }

    /// <summary>What one operation is.</summary>
    public required CapnpWorkload Workload { get; init; }

    /// <summary>The loopback link.</summary>
    public required LinkKind Link { get; init; }

    /// <summary>Set instead of figures when the cell could not be measured, saying why.</summary>
    public string? Unavailable { get; init; }

    /// <summary>Operations measured (an echo call, or a whole three-call chain).</summary>
    public long Operations { get; init; }

    /// <summary>How long the cell warmed up before its first round (for the C++ client, per run).</summary>
    public double WarmupSeconds { get; init; }

    /// <summary>False when a C# cell's warmup hit <see cref="CapnpOptions.MaxWarmup"/> with the JIT still compiling.</summary>
    public bool JitSettled { get; init; } = true;

    /// <summary>Wall time of the measured rounds.</summary>
    public double Seconds { get; init; }

    /// <summary>Median latency of one operation (nearest rank).</summary>
    public double P50Microseconds { get; init; }

    /// <summary>99th percentile latency of one operation (nearest rank).</summary>
    public double P99Microseconds { get; init; }

    /// <summary>Bytes allocated in this process per operation (client + server when both are C#; null for the C++ client).</summary>
    public double? AllocatedBytesPerOperation { get; init; }

    /// <summary>True when the cell has figures.</summary>
    public bool IsMeasured => Unavailable is null && Operations > 0;

    /// <summary>Operations over the wall time of the measured rounds.</summary>
    public double OperationsPerSecond => Seconds > 0 ? Operations / Seconds : 0;
}
