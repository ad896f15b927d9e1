using RpcGen.Benchmarks.Flow;

namespace RpcGen.Benchmarks.Tests;

/// <summary>
/// Runs the <c>--flow</c> mode end to end on a few MiB and a few calls per cell: every peer moves
/// every byte, every latency cell completes, and the report has its ratios. No timing is judged.
/// </summary>
public sealed class FlowSmokeTests
{
    private static readonly TimeSpan TestTimeout = TimeSpan.FromMinutes(4);

    [Fact]
    public async Task EveryCellRunsAndTheReportIsWellFormed()
    {
        var cells = await FlowSuite.RunAsync(new FlowOptions(TransferBytes: 2 * 1024 * 1024, LatencySamples: 20, CallersSeconds: 30, MaxCallsPerCaller: 20), TextWriter.Null).WaitAsync(TestTimeout);

        Assert.Equal(OperatingSystem.IsLinux() ? 13 : 11, cells.Count);
        Assert.All(cells, cell => Assert.True(cell.Value > 0, $"{cell.Name} measured nothing"));
        var report = FlowCommand.Render(cells, "smoke");
        Assert.Contains("1 flow ÷ raw TCP", report);
        Assert.Contains("16 flows ÷ MultiplexingStream 16 channels", report);
        Assert.Contains("unary over a flow ÷ message transport direct", report);
        if (OperatingSystem.IsLinux())
        {
            Assert.Contains("unary over a flow on shm ÷ shm direct", report);
        }
    }
}
