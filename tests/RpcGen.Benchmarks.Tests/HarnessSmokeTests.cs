using System.Xml.Linq;
using RpcGen.Benchmarks.Harness;

namespace RpcGen.Benchmarks.Tests;

/// <summary>
/// Runs the comparison harness end to end for a handful of calls per cell: every peer starts,
/// echoes intact, every workload completes, and the report and chart are well formed. The figures
/// themselves are not judged here; timing depends on the machine.
/// </summary>
public sealed class HarnessSmokeTests
{
    private static readonly TimeSpan TestTimeout = TimeSpan.FromMinutes(3);

    private static CompareOptions SmokeOptions(params LinkKind[] links) => new()
    {
        Mode = "smoke",
        Links = links,
        CallerCounts = [1, 4],
        Warmup = TimeSpan.Zero,
        JitQuietPeriod = TimeSpan.Zero,
        MaxWarmup = TimeSpan.Zero,
        // Bounded by count, not time: each caller stops after a handful of calls.
        Measure = TimeSpan.FromMinutes(1),
        MaxCallsPerCell = 16,
        StreamItems = 200,
        StreamRuns = 1,
        UploadBytes = 256 * 1024,
        UploadChunkBytes = 16 * 1024,
        UploadRuns = 1,
        StreamBudget = TimeSpan.FromMinutes(1),
        Timeout = TimeSpan.FromSeconds(60),
    };

    [Theory]
    [InlineData(LinkKind.Tcp)]
    [InlineData(LinkKind.Uds)]
    public async Task EveryPeerRunsEveryWorkload(LinkKind link)
    {
        var options = SmokeOptions(link);
        var notes = new Dictionary<string, string>();

        var results = await CompareSuite.RunAsync(options, TextWriter.Null, notes).WaitAsync(TestTimeout);

        var expectedCells = options.Peers.Sum(peer => CompareSuite.Cells(peer, options).Count());
        Assert.Equal(expectedCells, results.Count);
        foreach (var cell in results)
        {
            Assert.True(cell.IsMeasured, $"{cell.Peer} {cell.Workload} x{cell.Callers}: {cell.Unavailable}");
            Assert.True(cell.Operations > 0, $"{cell.Peer} {cell.Workload} x{cell.Callers} made no calls");
            Assert.True(cell.P99Microseconds >= cell.P50Microseconds);
            Assert.True(cell.AllocatedBytesPerOperation >= 0);
        }

        Assert.Contains(PeerKind.RpcGen.Display(), notes.Keys);
        Assert.Contains(PeerKind.Grpc.Display(), notes.Keys);
    }

    [Fact]
    public async Task UnaryCellsStopAtTheCallBound()
    {
        var options = SmokeOptions(LinkKind.Tcp) with { Peers = [PeerKind.Raw], Workloads = [Workload.Small] };

        var results = await CompareSuite.RunAsync(options, TextWriter.Null, new Dictionary<string, string>()).WaitAsync(TestTimeout);

        // 16 calls per cell, split over callers but never fewer than 16 per caller.
        Assert.Equal(16, results.Single(r => r.Callers == 1).Operations);
        Assert.Equal(4 * 16, results.Single(r => r.Callers == 4).Operations);
    }

    [Fact]
    public async Task ReportAndChartAreWellFormed()
    {
        var options = SmokeOptions(LinkKind.Tcp, LinkKind.Uds) with { Peers = [PeerKind.Raw, PeerKind.RawCoalesced, PeerKind.RpcGen] };
        var pass = await BenchmarkCli.RunPassAsync("unpinned", "no affinity set", options, TextWriter.Null).WaitAsync(TestTimeout);
        var report = new ComparisonReport
        {
            Command = "smoke",
            Mode = options.Mode,
            Started = DateTimeOffset.UtcNow,
            TotalSeconds = pass.Seconds,
            Machine = BenchmarkCli.DescribeMachine(),
            Options = options,
            Runs = [pass],
        };
        var directory = Directory.CreateTempSubdirectory("rpcgen-bench-smoke-");
        try
        {
            var (markdownPath, svgPath) = await BenchmarkCli.WriteReportAsync(report, directory.FullName);

            var markdown = await File.ReadAllTextAsync(markdownPath);
            Assert.StartsWith("# RpcGen benchmark comparison", markdown);
            Assert.Contains("### Targets (small DTO)", markdown);
            Assert.Contains("### Unary calls over TCP (127.0.0.1)", markdown);
            Assert.Contains("### Unary calls over Unix domain socket", markdown);
            Assert.Contains("### Server stream and upload", markdown);
            Assert.Contains("| server stream of small items | Tcp | RpcGen | 1 |", markdown);
            Assert.Contains("| upload | Uds | RpcGen | 1 |", markdown);
            AssertTablesAreRectangular(markdown);

            var svg = XDocument.Parse(await File.ReadAllTextAsync(svgPath));
            XNamespace ns = "http://www.w3.org/2000/svg";
            Assert.Equal(ns + "svg", svg.Root!.Name);
            Assert.Contains(svg.Descendants(ns + "rect"), r => r.Attribute("fill")?.Value == "#d62728");
            Assert.Contains(svg.Descendants(ns + "text"), t => t.Value == "RpcGen");
        }
        finally
        {
            directory.Delete(recursive: true);
        }
    }

    /// <summary>Every row of a Markdown table has as many cells as its header.</summary>
    private static void AssertTablesAreRectangular(string markdown)
    {
        var columns = -1;
        foreach (var line in markdown.Split('\n'))
        {
            if (!line.StartsWith('|'))
            {
                columns = -1;
                continue;
            }

            var cells = line.Trim().Trim('|').Split('|').Length;
            if (columns < 0)
            {
                columns = cells;
            }

            Assert.True(cells == columns, $"Row has {cells} cells, header has {columns}: {line}");
        }
    }
}
