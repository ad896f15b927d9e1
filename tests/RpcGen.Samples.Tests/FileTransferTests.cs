namespace RpcGen.Samples.Tests;

/// <summary>The FileTransfer sample, run as a user would (smaller than its 1 GiB default so the suite stays fast).</summary>
[Collection("samples")]
public class FileTransferTests
{
    [Theory]
    [InlineData("none", "tcp://127.0.0.1:0")]
    [InlineData("lz4", "tcp://127.0.0.1:0")]
    [InlineData("zstd", "unix")]
    [InlineData("snappy", "unix")]
    public async Task Uploads_and_downloads_with_matching_hashes(string codec, string address)
    {
        if (address == "unix")
        {
            address = "unix:" + Path.Combine(Path.GetTempPath(), $"rpcgen-ft-{Guid.NewGuid():N}.sock");
        }

        var (exitCode, output) = await DotnetProcess.RunAsync(
            "dotnet",
            $"run --no-build --project samples/FileTransfer -- --bytes 33554432 --compress {codec} --address {address}",
            DotnetProcess.BuildTimeout);

        Assert.True(exitCode == 0, output);
        Assert.Contains("upload:", output);
        Assert.Contains("download:", output);
        Assert.Equal(2, output.Split('\n').Count(line => line.Contains("sha256 matches", StringComparison.Ordinal)));
        Assert.EndsWith("OK", output.TrimEnd());
    }
}
