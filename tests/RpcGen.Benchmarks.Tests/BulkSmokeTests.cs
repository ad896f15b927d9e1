using RpcGen.Benchmarks.Bulk;
using RpcGen.Compression;

namespace RpcGen.Benchmarks.Tests;

/// <summary>
/// Runs the <c>--bulk</c> mode end to end on a few hundred KiB: every peer moves every byte both ways,
/// every codec round-trips both payloads, and the report is well formed. No timing is judged.
/// </summary>
public sealed class BulkSmokeTests
{
    private static readonly TimeSpan TestTimeout = TimeSpan.FromMinutes(2);

    // Sizes that are not whole chunks, so the last short chunk and block are exercised too.
    private static readonly BulkOptions SmokeOptions = new()
    {
        Mode = "smoke",
        TransferBytes = (3 * BulkOptions.ChunkBytes) + 123,
        TransferRuns = 2,
        CodecPayloadBytes = (4 * BulkOptions.ChunkBytes) + 17,
        CodecRuns = 1,
        CompressedTransferBytes = (2 * BulkOptions.ChunkBytes) + 5,
        Timeout = TimeSpan.FromSeconds(30),
    };

    [Fact]
    public async Task EveryTransferAndCodecRunsAndTheReportIsWellFormed()
    {
        var report = await BulkSuite.RunAsync(SmokeOptions, "smoke", TextWriter.Null).WaitAsync(TestTimeout);

        Assert.Equal(4 * 2, report.Transfers.Count); // raw, RpcGen, RpcGen over TLS with each cipher order; both directions
        foreach (var transfer in report.Transfers.Concat(report.CompressedTransfers))
        {
            Assert.True(transfer.IsMeasured, $"{transfer.Peer} {transfer.Direction} {transfer.Codec}: {transfer.Failure}");
            Assert.Equal(2, transfer.RunSeconds.Count);
        }

        Assert.Equal(4 * 2, report.CompressedTransfers.Count);
        foreach (var transfer in report.CompressedTransfers)
        {
            Assert.NotNull(transfer.WireRatio);
        }

        // The relay sees what compression did: an upload with a codec crosses smaller than without one.
        Assert.InRange(report.CompressedTransfers.Single(t => t.Codec == RpcCompression.None && t.Direction == TransferDirection.Upload).WireRatio!.Value, 0.9, 1.0);
        Assert.True(report.CompressedTransfers.Single(t => t.Codec == RpcCompression.Zstd && t.Direction == TransferDirection.Upload).WireRatio > 1.5);
        Assert.NotNull(BulkReportWriter.RatioToRaw(report, TransferDirection.Download));
        Assert.NotNull(BulkReportWriter.RatioToRaw(report, TransferDirection.Upload));

        Assert.Equal(2 * BulkSuite.Codecs.Length, report.Codecs.Count);
        foreach (var text in report.Codecs.Where(c => c.Payload == BulkSuite.TextData))
        {
            Assert.True(text.Ratio > 1.3, $"{text.Codec} compressed the text-like payload only {text.Ratio:0.00}×");
            // Only the 17-byte tail block may be too small to shrink.
            Assert.InRange(text.RawBlocks, 0, 1);
            Assert.NotNull(text.DecompressMegabytesPerSecond);
        }

        foreach (var random in report.Codecs.Where(c => c.Payload == BulkSuite.RandomData))
        {
            Assert.Equal(random.Blocks, random.RawBlocks);
            Assert.Equal(random.InputBytes, random.OutputBytes);
        }

        var markdown = BulkReportWriter.Render(report);
        Assert.StartsWith("# RpcGen bulk transfer and compression", markdown, StringComparison.Ordinal);
        Assert.Contains("Machine: ", markdown, StringComparison.Ordinal);
        Assert.Contains("| download (server → client) |", markdown, StringComparison.Ordinal);
        Assert.Contains("| upload (client → server) |", markdown, StringComparison.Ordinal);
        Assert.Contains("| text-like | zstd |", markdown, StringComparison.Ordinal);
        Assert.Contains("| random | Snappy |", markdown, StringComparison.Ordinal);
        Assert.Contains("--bulk --quick", markdown, StringComparison.Ordinal);
        Assert.DoesNotContain("failed", markdown, StringComparison.Ordinal);
    }

    [Fact]
    public void RatioIsRpcGenOverRawAndJudgedAgainstTheTarget()
    {
        var report = Report(
            Transfer(BulkSuite.RawPeer, TransferDirection.Download, seconds: 1.0),
            Transfer(BulkSuite.RpcGenPeer, TransferDirection.Download, seconds: 1.25),
            Transfer(BulkSuite.RawPeer, TransferDirection.Upload, seconds: 1.0),
            Transfer(BulkSuite.RpcGenPeer, TransferDirection.Upload, seconds: 4.0));

        Assert.Equal(0.8, BulkReportWriter.RatioToRaw(report, TransferDirection.Download)!.Value, 6);
        Assert.Equal(0.25, BulkReportWriter.RatioToRaw(report, TransferDirection.Upload)!.Value, 6);
        var markdown = BulkReportWriter.Render(report);
        Assert.Contains("| 0.80× | ≥ 0.6× | met |", markdown, StringComparison.Ordinal);
        Assert.Contains("| 0.25× | ≥ 0.6× | **missed** |", markdown, StringComparison.Ordinal);
    }

    [Fact]
    public void ThroughputIsTheMedianRun()
    {
        var transfer = Transfer(BulkSuite.RpcGenPeer, TransferDirection.Download, 4.0, 1.0, 2.0);

        Assert.Equal(1024.0 / 2.0, transfer.MebibytesPerSecond, 6);
        Assert.Equal(1024.0 / 4.0, transfer.SlowestMebibytesPerSecond, 6);
        Assert.Equal(1024.0, transfer.FastestMebibytesPerSecond, 6);
    }

    [Theory]
    [InlineData("268435456", 268_435_456L)]
    [InlineData("256M", 268_435_456L)]
    [InlineData("1G", 1_073_741_824L)]
    [InlineData("64k", 65_536L)]
    public void BytesTakeKiBMiBAndGiBSuffixes(string text, long expected)
    {
        Assert.Equal(expected, BulkCommand.ParseSize(text));
        Assert.Equal(expected, BulkCommand.ParseOptions(["--bulk", "--bytes", text]).TransferBytes);
    }

    [Theory]
    [InlineData("")]
    [InlineData("0")]
    [InlineData("-5")]
    [InlineData("12X")]
    public void BytesRejectsNonsense(string text) =>
        Assert.Throws<FormatException>(() => BulkCommand.ParseSize(text));

    [Fact]
    public void QuickMovesAQuarterGibibyteAndFullAGibibyte()
    {
        Assert.Equal(256 * BulkOptions.MiB, BulkCommand.ParseOptions(["--bulk", "--quick"]).TransferBytes);
        Assert.Equal(1024 * BulkOptions.MiB, BulkCommand.ParseOptions(["--bulk"]).TransferBytes);
    }

    private static TransferResult Transfer(string peer, TransferDirection direction, params double[] seconds) => new()
    {
        Peer = peer,
        Direction = direction,
        Data = BulkSuite.RandomData,
        BytesPerRun = 1024 * BulkOptions.MiB,
        RunSeconds = [.. seconds],
        AllocatedBytes = 1024,
    };

    private static BulkReport Report(params TransferResult[] transfers) => new()
    {
        Command = "made up",
        Options = BulkOptions.Quick,
        Started = DateTimeOffset.UnixEpoch,
        TotalSeconds = 1,
        Machine = "test machine",
        LoadBefore = 0.5,
        LoadAfter = 0.5,
        Transfers = transfers,
        CompressedTransfers = [],
        Codecs = [new CodecResult { Payload = BulkSuite.TextData, Codec = RpcCompression.Lz4, InputBytes = 100, OutputBytes = 50, Blocks = 1, RawBlocks = 0, CompressSeconds = 1e-6, DecompressSeconds = 1e-6, DecompressedBytes = 100 }],
    };
}
