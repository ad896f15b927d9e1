namespace RpcGen.Benchmarks.Harness;

/// <summary>Everything <see cref="ReportWriter"/> and <see cref="SvgChart"/> render.</summary>
public sealed record ComparisonReport
{
    public required string Command { get; init; }

    public required string Mode { get; init; }

    public required DateTimeOffset Started { get; init; }

    public required double TotalSeconds { get; init; }

    public required string Machine { get; init; }

    public required CompareOptions Options { get; init; }

    /// <summary>Pinned first when present: it is the headline.</summary>
    public required IReadOnlyList<AffinityRun> Runs { get; init; }

    public AffinityRun? Headline => Runs.FirstOrDefault(r => r.Failure is null);
}
