namespace RpcGen.Samples.Tests;

/// <summary>The README's first command, and the NativeAOT claim, checked the way a user would run them.</summary>
[Collection("samples")]
public class QuickstartTests
{

    [Fact]
    public async Task Dotnet_run_of_the_quickstart_serves_and_calls_over_tcp_and_a_unix_socket()
    {
        var (exitCode, output) = await DotnetProcess.RunAsync("dotnet", "run --no-build --project samples/Quickstart", DotnetProcess.BuildTimeout);

        Assert.True(exitCode == 0, output);
        Assert.Contains("[tcp://127.0.0.1:", output);
        Assert.Contains("[unix:", output);
        Assert.DoesNotContain("FAIL", output);
        Assert.EndsWith("OK", output.TrimEnd());
    }

    [Fact]
    public async Task The_quickstart_publishes_with_NativeAOT_without_warnings_and_the_binary_runs()
    {
        string? binary = null;
        try
        {
            binary = await NativeAot.PublishAsync("samples/Quickstart", "Quickstart");
            var (runExit, runOutput) = await DotnetProcess.RunAsync(binary, string.Empty, DotnetProcess.RunTimeout);
            Assert.True(runExit == 0, runOutput);
            Assert.EndsWith("OK", runOutput.TrimEnd());
        }
        finally
        {
            NativeAot.Delete(binary);
        }
    }
}
