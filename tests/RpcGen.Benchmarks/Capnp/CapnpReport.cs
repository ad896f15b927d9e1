namespace RpcGen.Benchmarks.Capnp;

/// <summary>Everything one <c>--capnp</c> run measured, ready to render.</summary>
public sealed record CapnpReport
{
    /// <summary>The command line that produced the report.</summary>
    public required string Command { get; init; }

    public required CapnpOptions Options { get; init; }

    public required DateTimeOffset Started { get; init; }

    /// <summary>Wall time of the whole run, both passes.</summary>
    public required double TotalSeconds { get; init; }

    /// <summary>CPU, OS, runtime and build, in words.</summary>
    public required string Machine { get; init; }

    /// <summary>The pinned and unpinned passes that were asked for, in that order.</summary>
    public required IReadOnlyList<CapnpPass> Passes { get; init; }
}
