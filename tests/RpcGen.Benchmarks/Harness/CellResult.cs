namespace RpcGen.Benchmarks.Harness;

/// <summary>
/// The figures of one measurement cell. For unary workloads an operation is a call and the
/// percentiles are per-call latencies; for a server stream an operation is an item, for an upload
/// it is a chunk, and the percentiles are whole-run durations.
/// </summary>
public sealed record CellResult
{
    public required PeerKind Peer { get; init; }

    public required LinkKind Link { get; init; }

    public required Workload Workload { get; init; }

    public required int Callers { get; init; }

    /// <summary>Set instead of figures when the cell could not be measured (not implemented, or an error).</summary>
    public string? Unavailable { get; init; }

    public long Operations { get; init; }

    /// <summary>Runs (streams/uploads) or calls (unary) the percentiles are over.</summary>
    public long Samples { get; init; }

    public double Seconds { get; init; }

    public double P50Microseconds { get; init; }

    public double P99Microseconds { get; init; }

    /// <summary>Operations per second over the measured wall time.</summary>
    public double OperationsPerSecond { get; init; }

    /// <summary>Payload bytes per second (uploads), else zero.</summary>
    public double BytesPerSecond { get; init; }

    /// <summary>Bytes allocated by the whole process (client and server) per operation.</summary>
    public double AllocatedBytesPerOperation { get; init; }

    public bool IsMeasured => Unavailable is null;
}
