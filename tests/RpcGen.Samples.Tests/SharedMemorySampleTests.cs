namespace RpcGen.Samples.Tests;

/// <summary><c>dotnet run --project samples/SharedMemory</c>: calls over shared memory and a Unix socket to a child process, ending with OK.</summary>
[Collection("samples")]
public class SharedMemorySampleTests
{
    [Fact]
    public async Task The_shared_memory_sample_times_both_transports_and_ends_with_ok()
    {
        var (exitCode, output) = await DotnetProcess.RunAsync("dotnet", "run --no-build --project samples/SharedMemory -- --calls 2000", DotnetProcess.RunTimeout);

        Assert.True(exitCode == 0, output);
        Assert.Contains("shm : p50", output);
        Assert.Contains("unix: p50", output);
        Assert.Contains("ratio shm/unix", output);
        Assert.EndsWith("OK", output.TrimEnd());
    }
}
