namespace RpcGen.Samples.Tests;

/// <summary>The generic-host sample, run as a user would.</summary>
[Collection("samples")]
public class HostedServiceSampleTests
{
    [Fact]
    public async Task Dotnet_run_of_the_hosted_service_sample_serves_per_call_scopes_and_ends_with_OK()
    {
        var (exitCode, output) = await DotnetProcess.RunAsync("dotnet", "run --no-build --project samples/HostedService", DotnetProcess.RunTimeout);

        Assert.True(exitCode == 0, output);
        Assert.Contains("the server holds 3 order(s)", output);
        Assert.Contains("Committed 1 order(s)", output);
        Assert.Contains("rpc.server.duration", output); // the OpenTelemetry console exporter is wired
        Assert.DoesNotContain("FAIL", output);
        Assert.EndsWith("OK", output.TrimEnd());
    }
}
