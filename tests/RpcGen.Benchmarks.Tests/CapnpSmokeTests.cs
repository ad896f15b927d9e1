using RpcGen.Benchmarks.Capnp;
using RpcGen.Benchmarks.Harness;

namespace RpcGen.Benchmarks.Tests;

/// <summary>
/// Runs the <c>--capnp</c> mode end to end for a handful of calls per cell: every client and server
/// starts and answers correctly, the C++ peers build and run, and the report is well formed. No
/// timing is judged.
/// </summary>
public sealed class CapnpSmokeTests
{
    private static readonly TimeSpan TestTimeout = TimeSpan.FromMinutes(4);

    // Bounded by count, not time: each round of a cell stops after a handful of operations.
    private static readonly CapnpOptions SmokeOptions = new()
    {
        Mode = "smoke",
        Warmup = TimeSpan.Zero,
        JitQuietPeriod = TimeSpan.Zero,
        MaxWarmup = TimeSpan.Zero,
        Measure = TimeSpan.FromMinutes(1),
        Rounds = 2,
        MaxCallsPerRound = 8,
        Timeout = TimeSpan.FromSeconds(60),
    };

    [Fact]
    public async Task EveryCellRunsAndTheReportIsWellFormed()
    {
        var pass = await CapnpSuite.RunPassAsync("smoke", "in the test process", SmokeOptions, TextWriter.Null).WaitAsync(TestTimeout);

        Assert.Equal(SmokeOptions.Links.Count * CapnpSuite.Cells.Length, pass.Cells.Count);
        foreach (var cell in pass.Cells.Where(c => c.Pair is CapnpPair.CSharpGenerated or CapnpPair.CSharp or CapnpPair.Message))
        {
            AssertMeasured(cell);
        }

        var markdown = CapnpReportWriter.Render(new CapnpReport
        {
            Command = "dotnet run -c Release --project tests/RpcGen.Benchmarks -- --capnp --quick",
            Options = SmokeOptions,
            Started = DateTimeOffset.UtcNow,
            TotalSeconds = 1,
            Machine = "test machine",
            Passes = [pass],
        });
        Assert.StartsWith("# RpcGen Cap'n Proto benchmarks", markdown, StringComparison.Ordinal);
        Assert.Contains("Machine: test machine", markdown, StringComparison.Ordinal);
        Assert.Contains("load average", markdown, StringComparison.Ordinal);
        foreach (var link in new[] { "TCP", "UDS" })
        {
            Assert.Contains($"| {CapnpReportWriter.TransportName} | {link} |", markdown, StringComparison.Ordinal);
            Assert.Contains($"| {CapnpReportWriter.PipeliningName} | {link} |", markdown, StringComparison.Ordinal);
            Assert.Contains($"| {CapnpReportWriter.ClientName} | {link} |", markdown, StringComparison.Ordinal);
        }

        Assert.DoesNotContain("error:", markdown, StringComparison.Ordinal);
        var csharpComparisons = CapnpReportWriter.Comparisons(pass).Where(c => !c.Name.Contains("C++", StringComparison.Ordinal));
        Assert.All(csharpComparisons, c => Assert.NotNull(c.P50Ratio));

        if (pass.NativeToolsMissing)
        {
            RpcGen.Capnp.Tests.Infrastructure.ExternalTool.Missing(pass.NativeUnavailable!, "apt-get install -y capnproto libcapnp-dev g++ pkg-config");
        }

        Assert.Null(pass.NativeUnavailable);
        foreach (var cell in pass.Cells.Where(c => c.Pair is CapnpPair.CSharpGeneratedToCpp or CapnpPair.CSharpToCpp or CapnpPair.Cpp))
        {
            AssertMeasured(cell);
        }

        Assert.All(CapnpReportWriter.Comparisons(pass), c => Assert.NotNull(c.P50Ratio));
    }

    [Fact]
    public void RatiosAreFirstOverSecondAndJudgedOnTheMedian()
    {
        var pass = Pass(
            Cell(CapnpPair.Message, CapnpWorkload.Echo, p50: 40, p99: 100),
            Cell(CapnpPair.CSharpGenerated, CapnpWorkload.Echo, p50: 50, p99: 150),
            Cell(CapnpPair.CSharp, CapnpWorkload.Echo, p50: 44, p99: 120),
            Cell(CapnpPair.CSharpGenerated, CapnpWorkload.ChainPipelined, p50: 70, p99: 100),
            Cell(CapnpPair.CSharpGenerated, CapnpWorkload.ChainAwaited, p50: 100, p99: 200),
            Cell(CapnpPair.CSharp, CapnpWorkload.ChainPipelined, p50: 50, p99: 100),
            Cell(CapnpPair.CSharp, CapnpWorkload.ChainAwaited, p50: 100, p99: 200),
            Cell(CapnpPair.CSharpGeneratedToCpp, CapnpWorkload.Echo, p50: 42, p99: 80),
            Cell(CapnpPair.CSharpToCpp, CapnpWorkload.Echo, p50: 36, p99: 70),
            Cell(CapnpPair.Cpp, CapnpWorkload.Echo, p50: 30, p99: 60));

        var comparisons = CapnpReportWriter.Comparisons(pass);

        // The headline rows go through the generated proxy; the low-level client's are references without a target.
        var transport = comparisons.Single(c => c.Name == CapnpReportWriter.TransportName);
        Assert.Equal(1.25, transport.P50Ratio!.Value, 6);
        Assert.Equal(1.5, transport.P99Ratio!.Value, 6);
        Assert.Equal("met", transport.Verdict);
        var lowLevel = comparisons.Single(c => c.Name.StartsWith("1. Cap'n Proto low-level", StringComparison.Ordinal));
        Assert.Equal(1.1, lowLevel.P50Ratio!.Value, 6);
        Assert.Equal("no target", lowLevel.Verdict);
        var pipelining = comparisons.Single(c => c.Name == CapnpReportWriter.PipeliningName);
        Assert.Equal(0.7, pipelining.P50Ratio!.Value, 6);
        Assert.Equal("**missed**", pipelining.Verdict);
        Assert.Equal("no target", comparisons.Single(c => c.Name == "2. pipelined ÷ awaited: 3-call chain, C# → C#, low-level (reference)").Verdict);
        Assert.Equal("not measured", comparisons.Single(c => c.Name == "2. pipelined ÷ awaited: 3-call chain, C++ → C++ (reference)").Verdict);
        var client = comparisons.Single(c => c.Name == CapnpReportWriter.ClientName);
        Assert.Equal(1.4, client.P50Ratio!.Value, 6);
        Assert.Equal("**missed**", client.Verdict);
        Assert.Equal(1.2, comparisons.Single(c => c.Name.StartsWith("3. C# low-level", StringComparison.Ordinal)).P50Ratio!.Value, 6);
        Assert.All(comparisons.Where(c => c.Target is not null), c => Assert.Contains("generated proxy", c.Name, StringComparison.Ordinal));

        var markdown = CapnpReportWriter.Render(new CapnpReport
        {
            Command = "made up",
            Options = CapnpOptions.Quick,
            Started = DateTimeOffset.UnixEpoch,
            TotalSeconds = 1,
            Machine = "test machine",
            Passes = [pass],
        });
        Assert.Contains("| 1. Cap'n Proto generated proxy ÷ message transport: echo, C# → C# | UDS | 1.25× | 1.50× | 50.0 vs 40.0 | 150 vs 100 | ≤ 1.3× | met |", markdown, StringComparison.Ordinal);
        Assert.Contains("| 3. C# generated proxy ÷ C++ client: echo against the C++ server | UDS | 1.40× | 1.33× | 42.0 vs 30.0 | 80.0 vs 60.0 | ≤ 1.3× | **missed** |", markdown, StringComparison.Ordinal);
    }

    [Fact]
    public void ClientOutputIsParsedAndCheckedAgainstItsCount()
    {
        var (elapsed, latencies) = CapnpSuite.ParseClientOutput("CALLS 3 ELAPSED_NS 90000\nLATENCIES_NS 31000 29000 30000\n");

        Assert.Equal(90_000, elapsed);
        Assert.Equal([31_000L, 29_000L, 30_000L], latencies);
        Assert.Throws<InvalidDataException>(() => CapnpSuite.ParseClientOutput("CALLS 4 ELAPSED_NS 90000\nLATENCIES_NS 1 2 3\n"));
        Assert.Throws<InvalidDataException>(() => CapnpSuite.ParseClientOutput("CHECK FAILED"));
    }

    [Fact]
    public void QuickAndFullDifferOnlyInHowLong()
    {
        var quick = CapnpCommand.ParseOptions(["--capnp", "--quick"]);
        var full = CapnpCommand.ParseOptions(["--capnp", "--links", "uds"]);

        Assert.Equal("quick", quick.Mode);
        Assert.Equal([LinkKind.Tcp, LinkKind.Uds], quick.Links);
        Assert.Equal("full", full.Mode);
        Assert.Equal([LinkKind.Uds], full.Links);
        Assert.True(full.Rounds * full.Measure > quick.Rounds * quick.Measure);
    }

    private static void AssertMeasured(CapnpCell cell)
    {
        var name = $"{cell.Link} {cell.Pair} {cell.Workload}";
        Assert.True(cell.IsMeasured, $"{name}: {cell.Unavailable}");
        Assert.Equal(SmokeOptions.Rounds * SmokeOptions.MaxCallsPerRound, cell.Operations);
        Assert.True(cell.P99Microseconds >= cell.P50Microseconds, name);
        Assert.True(cell.P50Microseconds > 0, name);
    }

    private static CapnpCell Cell(CapnpPair pair, CapnpWorkload workload, double p50, double p99) => new()
    {
        Pair = pair,
        Workload = workload,
        Link = LinkKind.Uds,
        Operations = 1000,
        Seconds = 1,
        P50Microseconds = p50,
        P99Microseconds = p99,
    };

    private static CapnpPass Pass(params CapnpCell[] cells) => new()
    {
        Label = "unpinned",
        Affinity = "no affinity set",
        Cpus = 2,
        Seconds = 1,
        Cells = [.. cells],
        LoadBefore = 0.5,
        LoadAfter = 0.5,
    };
}
