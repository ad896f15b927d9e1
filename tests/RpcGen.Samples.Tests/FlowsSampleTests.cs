namespace RpcGen.Samples.Tests;

/// <summary><c>samples/Flows</c> run the way its README command runs it.</summary>
[Collection("samples")]
public sealed class FlowsSampleTests
{
    private static readonly TimeSpan Timeout = DotnetProcess.RunTimeout;

    [Fact]
    public async Task Dotnet_run_of_the_flows_sample_carries_100_flows_over_one_connection_per_remote()
    {
        var (exitCode, output) = await DotnetProcess.RunAsync("dotnet", "run --no-build --project samples/Flows", Timeout);

        Assert.True(exitCode == 0, output);
        Assert.Contains("network connections used: 2 (RPC: 1, raw: 1) for 100 flows", output);
        Assert.Contains("measured RTT:", output);
        Assert.DoesNotContain("FAIL", output);
        Assert.EndsWith("OK", output.TrimEnd());
    }
}
