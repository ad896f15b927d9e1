namespace RpcGen.Samples.Tests;

/// <summary><c>dotnet run --project samples/Secure</c>: CA, TOFU, lockdown, authorization and PSK, ending with OK.</summary>
[Collection("samples")]
public class SecureSampleTests
{
    [Fact]
    public async Task The_secure_sample_runs_every_posture_and_ends_with_ok()
    {
        var (exitCode, output) = await DotnetProcess.RunAsync("dotnet", "run --no-build --project samples/Secure", DotnetProcess.RunTimeout);

        Assert.True(exitCode == 0, output);
        Assert.Contains("lockdown: bob refused: PermissionDenied", output);
        Assert.Contains("PSK: a wrong key is refused", output);
        Assert.DoesNotContain("FAIL", output);
        Assert.EndsWith("OK", output.TrimEnd());
    }
}
