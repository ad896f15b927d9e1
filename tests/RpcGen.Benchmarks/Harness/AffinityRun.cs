namespace RpcGen.Benchmarks.Harness;

/// <summary>The results of one comparison pass under one CPU affinity.</summary>
public sealed record AffinityRun
{
    /// <summary>"pinned" (client and server on one CPU) or "unpinned".</summary>
    public required string Label { get; init; }

    /// <summary>How the affinity was set, in words for the report.</summary>
    public required string Affinity { get; init; }

    /// <summary>The CPUs the measuring process could use.</summary>
    public required int Cpus { get; init; }

    public required double Seconds { get; init; }

    public required List<CellResult> Results { get; init; }

    /// <summary>Per-peer configuration notes collected while running.</summary>
    public Dictionary<string, string> PeerNotes { get; init; } = [];

    /// <summary>The 1-minute load average when the pass started and ended (/proc/loadavg), or -1 where unknown.</summary>
    public double LoadBefore { get; init; } = -1;

    public double LoadAfter { get; init; } = -1;

    /// <summary>The pass's <c>DOTNET_TC_CallCountingDelayMs</c>, or null when it was not set (the runtime's default).</summary>
    public string? CallCountingDelayMs { get; init; }

    /// <summary>Set when the pass could not run at all (for example taskset missing).</summary>
    public string? Failure { get; init; }
}
