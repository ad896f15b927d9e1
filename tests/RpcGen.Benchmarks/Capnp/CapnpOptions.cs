using RpcGen.Benchmarks.Harness;

namespace RpcGen.Benchmarks.Capnp;

/// <summary>What a <c>--capnp</c> run measures and how long each cell may take.</summary>
public sealed record CapnpOptions
{
    /// <summary>"quick", "full", or a test's name for its own settings.</summary>
    public required string Mode { get; init; }

    /// <summary>The links to measure, each with every cell.</summary>
    public IReadOnlyList<LinkKind> Links { get; init; } = [LinkKind.Tcp, LinkKind.Uds];

    /// <summary>
    /// The shortest warmup per cell: for C# clients once per session, then on until the JIT has been
    /// quiet for <see cref="JitQuietPeriod"/> (at most <see cref="MaxWarmup"/>); for the C++ client, the
    /// whole warmup, at the start of each of its runs (a new process each time).
    /// </summary>
    public required TimeSpan Warmup { get; init; }

    /// <summary>A C# cell's warmup ends once no method has been compiled for this long: tier-1 code is in place.</summary>
    public required TimeSpan JitQuietPeriod { get; init; }

    /// <summary>The longest a C# cell warms up, whether or not the JIT has settled.</summary>
    public required TimeSpan MaxWarmup { get; init; }

    /// <summary>Measurement per cell and round; a round also ends at <see cref="MaxCallsPerRound"/>.</summary>
    public required TimeSpan Measure { get; init; }

    /// <summary>
    /// Every cell of a link is measured once per round, round after round, and the rounds' latencies
    /// are pooled: cells whose figures are divided by each other are then measured close together in
    /// time, so a burst of other work on the machine lands on both.
    /// </summary>
    public required int Rounds { get; init; }

    /// <summary>The most operations a cell measures per round (its recorder's size).</summary>
    public required int MaxCallsPerRound { get; init; }

    /// <summary>How long any one phase (a start, a check, a measured round) may take before its cell is declared hung.</summary>
    public TimeSpan Timeout { get; init; } = TimeSpan.FromSeconds(60);

    /// <summary>Well under a minute for both passes.</summary>
    public static CapnpOptions Quick => new()
    {
        Mode = "quick",
        Warmup = TimeSpan.FromMilliseconds(150),
        JitQuietPeriod = TimeSpan.FromMilliseconds(250),
        MaxWarmup = TimeSpan.FromSeconds(3),
        Measure = TimeSpan.FromMilliseconds(300),
        Rounds = 1,
        MaxCallsPerRound = 200_000,
    };

    /// <summary>3 s per cell in three rounds: enough calls for a steady p99.</summary>
    public static CapnpOptions Full => new()
    {
        Mode = "full",
        Warmup = TimeSpan.FromMilliseconds(500),
        JitQuietPeriod = TimeSpan.FromMilliseconds(500),
        MaxWarmup = TimeSpan.FromSeconds(10),
        Measure = TimeSpan.FromSeconds(1),
        Rounds = 3,
        MaxCallsPerRound = 500_000,
    };
}
