namespace RpcGen.Soak.Tests;

/// <summary>
/// A 30-second soak over loopback TCP. It asserts the correctness verdicts (no call lost, duplicated,
/// crossed or failed unprovoked; connections, handlers, memory and descriptors back) and only reports
/// latency: a latency threshold would fail on a busy 2-core machine without saying anything about the code.
/// </summary>
public class SoakSmokeTests(ITestOutputHelper output)
{
    [Fact]
    public async Task A_thirty_second_soak_loses_duplicates_and_crosses_no_call_and_gives_back_what_it_took()
    {
        var options = new SoakOptions
        {
            Duration = TimeSpan.FromSeconds(30),

            // Part of the 30 s; the paced phase's calls are checked like the others, its latency only reported.
            PacedDuration = TimeSpan.FromSeconds(5),

            // Looser than the console run's: the other test projects share the process's machine, and
            // the test host's own threads and buffers grow with theirs.
            WorkingSetToleranceBytes = 256L * 1024 * 1024,
            ManagedToleranceBytes = 32L * 1024 * 1024,
        };

        var result = await SoakRunner.RunAsync(options, TextWriter.Null);
        var table = result.ToMarkdown("SoakSmokeTests (30 s)");
        output.WriteLine(table);

        Assert.True(result.Total(k => k.Issued) > options.ConcurrentCalls + options.Connections * options.CallsPerConnection, table);
        Assert.Equal(0, result.Total(k => k.Lost));
        Assert.Equal(0, result.Total(k => k.CrossTalk));
        Assert.Equal(0, result.Total(k => k.Unexpected));
        Assert.Equal(0, result.RunTwice);
        Assert.True(result.ReconnectCycles >= 2, table);
        Assert.True(result.PacedSamples > 0, table);
        Assert.True(result.SettledConnections, table);
        Assert.True(result.SettledHandlers, table);
        Assert.True(result.ManagedGrowth <= options.ManagedToleranceBytes, table);
        Assert.True(result.WorkingSetGrowth <= options.WorkingSetToleranceBytes, table);
        Assert.True(result.DescriptorGrowth <= options.DescriptorTolerance, table);
        Assert.True(result.Passed, table);
    }
}
