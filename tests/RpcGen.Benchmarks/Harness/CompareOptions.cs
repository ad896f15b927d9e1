namespace RpcGen.Benchmarks.Harness;

/// <summary>What a comparison run measures and how long each cell may take.</summary>
public sealed record CompareOptions
{
    public required string Mode { get; init; }

    public IReadOnlyList<PeerKind> Peers { get; init; } = [PeerKind.Raw, PeerKind.RawCoalesced, PeerKind.RpcGen, PeerKind.RpcGenInline, PeerKind.RpcGenTls, PeerKind.RpcGenTlsPsk, PeerKind.Grpc, PeerKind.StreamJsonRpc];

    public IReadOnlyList<LinkKind> Links { get; init; } = [LinkKind.Tcp, LinkKind.Uds];

    public IReadOnlyList<Workload> Workloads { get; init; } =
        [Workload.Empty, Workload.Small, Workload.Message, Workload.Bytes64K, Workload.ServerStream, Workload.Upload];

    public IReadOnlyList<int> CallerCounts { get; init; } = [1, 64];

    /// <summary>
    /// Least warmup per unary cell; it goes on until no method has been compiled for
    /// <see cref="JitQuietPeriod"/>, at most <see cref="MaxWarmup"/> (see <see cref="TieredJit"/>).
    /// </summary>
    public required TimeSpan Warmup { get; init; }

    /// <summary>How long the JIT must have compiled nothing before a unary cell's warmup ends.</summary>
    public required TimeSpan JitQuietPeriod { get; init; }

    /// <summary>The longest a unary cell warms up, whether or not the JIT has gone quiet.</summary>
    public required TimeSpan MaxWarmup { get; init; }

    /// <summary>Measurement per unary cell: it ends at this time or at <see cref="MaxCallsPerCell"/>, whichever comes first.</summary>
    public required TimeSpan Measure { get; init; }

    public required int MaxCallsPerCell { get; init; }

    public int StreamItems { get; init; } = 100_000;

    public required int StreamRuns { get; init; }

    public long UploadBytes { get; init; } = 256L * 1024 * 1024;

    public int UploadChunkBytes { get; init; } = 64 * 1024;

    public required int UploadRuns { get; init; }

    /// <summary>A stream or upload cell stops starting new runs after this much time (at least one run is made).</summary>
    public required TimeSpan StreamBudget { get; init; }

    /// <summary>How long any one phase may take before the cell is declared hung.</summary>
    public TimeSpan Timeout { get; init; } = TimeSpan.FromSeconds(120);

    /// <summary>Under two minutes for everything (pinned and unpinned): short cells, one upload run.</summary>
    public static CompareOptions Quick => new()
    {
        Mode = "quick",
        Warmup = TimeSpan.FromMilliseconds(150),
        JitQuietPeriod = TimeSpan.FromMilliseconds(250),
        MaxWarmup = TimeSpan.FromSeconds(3),
        Measure = TimeSpan.FromMilliseconds(250),
        MaxCallsPerCell = 400_000,
        StreamRuns = 1,
        UploadRuns = 1,
        StreamBudget = TimeSpan.FromSeconds(3),
    };

    /// <summary>The full run: long enough cells for stable p99s.</summary>
    public static CompareOptions Full => new()
    {
        Mode = "full",
        Warmup = TimeSpan.FromSeconds(1),
        JitQuietPeriod = TimeSpan.FromMilliseconds(500),
        MaxWarmup = TimeSpan.FromSeconds(10),
        Measure = TimeSpan.FromSeconds(3),
        MaxCallsPerCell = 2_000_000,
        StreamRuns = 5,
        UploadRuns = 3,
        StreamBudget = TimeSpan.FromSeconds(20),
    };
}
