using RpcGen.Benchmarks.Harness;

namespace RpcGen.Benchmarks.Tests;

/// <summary>The report's arithmetic and verdicts, on made-up figures.</summary>
public sealed class ReportTests
{
    private static readonly CompareOptions Options = CompareOptions.Quick with { Links = [LinkKind.Tcp] };

    [Fact]
    public void PercentileIsNearestRank()
    {
        int[] sorted = [1, 2, 3, 4, 5, 6, 7, 8, 9, 10];

        Assert.Equal(5, CompareSuite.Percentile(sorted, 0.50));
        Assert.Equal(10, CompareSuite.Percentile(sorted, 0.99));
        Assert.Equal(1, CompareSuite.Percentile(sorted, 0.01));
        Assert.Equal(0, CompareSuite.Percentile([], 0.5));
    }

    [Fact]
    public void TargetsAreJudgedAgainstTheRawFloor()
    {
        var run = Run(
            Cell(PeerKind.Raw, 1, p50: 20, rate: 40_000, allocated: 100),
            Cell(PeerKind.RpcGen, 1, p50: 25, rate: 35_000, allocated: 300),
            Cell(PeerKind.RpcGen, 64, p50: 100, rate: 600_000, allocated: 200),
            Cell(PeerKind.RawCoalesced, 64, p50: 50, rate: 1_200_000, allocated: 200));

        var markdown = ReportWriter.Render(Report(run));

        Assert.Contains("| 1 caller: RpcGen p50 ≤ 1.3× raw floor | Tcp | 1.25× (25.0 µs vs 20.0 µs; calls/s 35,000 vs 40,000) | met |", markdown);
        Assert.Contains("| 64 callers, one connection: RpcGen ≥ 0.5 M calls/s | Tcp | 600,000 calls/s (1.20× of target) | met |", markdown);
        Assert.Contains("| 64 callers (no target): RpcGen calls/s as a share of the coalesced raw floor | Tcp | 0.50× (600,000 vs 1,200,000 calls/s) | — |", markdown);
        Assert.Contains("| ≤ 256 B allocated per call, client + server (1 caller) | Tcp | 300 B | **missed** |", markdown);
        Assert.Contains("| ≤ 256 B allocated per call, client + server (64 callers) | Tcp | 200 B | met |", markdown);
    }

    [Fact]
    public void TlsIsJudgedAgainstPlainAndPskAgainstTls()
    {
        var run = Run(
            Cell(PeerKind.RpcGen, 1, p50: 25, rate: 35_000, allocated: 0),
            Cell(PeerKind.RpcGenTls, 1, p50: 30, rate: 30_000, allocated: 0),
            Cell(PeerKind.RpcGenTlsPsk, 1, p50: 45, rate: 20_000, allocated: 0),
            Cell(PeerKind.RpcGen, 64, p50: 100, rate: 600_000, allocated: 0),
            Cell(PeerKind.RpcGenTls, 64, p50: 150, rate: 400_000, allocated: 0),
            Cell(PeerKind.RpcGenTlsPsk, 64, p50: 150, rate: 400_000, allocated: 0));

        var markdown = ReportWriter.Render(Report(run));

        Assert.Contains("| TLS vs plain, 1 caller p50 ≤ 1.3× | Tcp | 1.20× (30.0 vs 25.0 µs) | met |", markdown);
        Assert.Contains("| TLS vs plain, 64 callers calls/s (no target) | Tcp | 0.67× (400,000 vs 600,000 calls/s) | — |", markdown);
        Assert.Contains("| TLS+PSK vs TLS, 1 caller p50 ≤ 1.3× | Tcp | 1.50× (45.0 vs 30.0 µs) | **missed** |", markdown);
        Assert.Contains("| TLS+PSK vs TLS, 64 callers calls/s (no target) | Tcp | 1.00× (400,000 vs 400,000 calls/s) | — |", markdown);
    }

    [Fact]
    public void PeersAreShownAsRatiosToRpcGen()
    {
        var run = Run(
            Cell(PeerKind.RpcGen, 1, p50: 50, rate: 20_000, allocated: 0),
            Cell(PeerKind.Grpc, 1, p50: 150, rate: 5_000, allocated: 0));

        var markdown = ReportWriter.Render(Report(run));

        Assert.Contains("| unary, small DTO | 1 | grpc-dotnet | 150 | 150 | 5,000 | 0 | 3.00× | 0.25× |", markdown);
    }

    [Fact]
    public void CellsThatCouldNotRunSayWhy()
    {
        var run = Run(
            Cell(PeerKind.Raw, 1, p50: 20, rate: 40_000, allocated: 100),
            Cell(PeerKind.RpcGen, 1, p50: 0, rate: 0, allocated: 0) with { Unavailable = PeerSession.NotImplementedYet });

        var markdown = ReportWriter.Render(Report(run));

        Assert.Contains("| unary, small DTO | 1 | RpcGen | n/a — not implemented yet | — | — | — | — | — |", markdown);
        Assert.Contains("| 1 caller: RpcGen p50 ≤ 1.3× raw floor | Tcp | n/a — not implemented yet | — |", markdown);
    }

    [Fact]
    public void OptionsComeFromTheCommandLine()
    {
        var options = BenchmarkCli.ParseOptions(["--compare", "--quick", "--peers", "raw,grpc", "--links", "uds"]);

        Assert.Equal("quick", options.Mode);
        Assert.Equal([PeerKind.Raw, PeerKind.Grpc], options.Peers);
        Assert.Equal([LinkKind.Uds], options.Links);
    }

    private static CellResult Cell(PeerKind peer, int callers, double p50, double rate, double allocated) => new()
    {
        Peer = peer,
        Link = LinkKind.Tcp,
        Workload = Workload.Small,
        Callers = callers,
        Operations = 1000,
        Samples = 1000,
        Seconds = 1,
        P50Microseconds = p50,
        P99Microseconds = p50,
        OperationsPerSecond = rate,
        AllocatedBytesPerOperation = allocated,
    };

    private static AffinityRun Run(params CellResult[] cells) =>
        new() { Label = "pinned", Affinity = "taskset -c 0", Cpus = 1, Seconds = 1, Results = [.. cells] };

    private static ComparisonReport Report(AffinityRun run) => new()
    {
        Command = "test",
        Mode = "quick",
        Started = DateTimeOffset.UnixEpoch,
        TotalSeconds = 1,
        Machine = "test machine",
        Options = Options,
        Runs = [run],
    };
}
