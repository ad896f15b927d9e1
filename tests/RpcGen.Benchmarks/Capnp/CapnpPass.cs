namespace RpcGen.Benchmarks.Capnp;

/// <summary>One <c>--capnp</c> pass under one CPU affinity.</summary>
public sealed record CapnpPass
{
    /// <summary>"pinned" (everything on CPU 0) or "unpinned".</summary>
    public required string Label { get; init; }

    /// <summary>How the affinity was set, in words for the report.</summary>
    public required string Affinity { get; init; }

    /// <summary>The CPUs the measuring process could use.</summary>
    public required int Cpus { get; init; }

    /// <summary>How long the pass took, the C++ build included.</summary>
    public required double Seconds { get; init; }

    /// <summary>Every cell of every link, in <see cref="CapnpSuite.Cells"/> order per link.</summary>
    public required List<CapnpCell> Cells { get; init; }

    /// <summary>The 1-minute load average when the pass started and ended, or -1 where unknown.</summary>
    public double LoadBefore { get; init; } = -1;

    /// <summary>The 1-minute load average when the pass ended, or -1 where unknown.</summary>
    public double LoadAfter { get; init; } = -1;

    /// <summary>The pass's <c>DOTNET_TC_CallCountingDelayMs</c>, or null when it was not set (the runtime's default).</summary>
    public string? CallCountingDelayMs { get; init; }

    /// <summary>Why the C++ programs could not be used (a missing tool, a failed build); null when they were built.</summary>
    public string? NativeUnavailable { get; init; }

    /// <summary>True when <see cref="NativeUnavailable"/> is a missing tool rather than a failure.</summary>
    public bool NativeToolsMissing { get; init; }

    /// <summary>Set when the pass could not run at all (for example taskset missing).</summary>
    public string? Failure { get; init; }
}
