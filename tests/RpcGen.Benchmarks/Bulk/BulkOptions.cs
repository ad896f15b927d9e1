using RpcGen.Streams;

namespace RpcGen.Benchmarks.Bulk;

/// <summary>What a bulk run moves and compresses, and how often.</summary>
public sealed record BulkOptions
{
    /// <summary>The chunk both sides of every transfer use: the size RpcGen cuts a <see cref="Stream"/> into.</summary>
    public const int ChunkBytes = RpcByteStreams.ChunkSize;

    public const long MiB = 1024 * 1024;

    public required string Mode { get; init; }

    /// <summary>Bytes per uncompressed download and per upload (RpcGen and the raw socket copy alike).</summary>
    public required long TransferBytes { get; init; }

    /// <summary>Measured runs per peer and direction; raw and RpcGen runs alternate so drift hits both.</summary>
    public required int TransferRuns { get; init; }

    /// <summary>Size of each codec payload (text-like and random).</summary>
    public required int CodecPayloadBytes { get; init; }

    /// <summary>Measured compress and decompress passes per codec and payload.</summary>
    public required int CodecRuns { get; init; }

    /// <summary>Bytes per transfer with <c>RpcClientOptions.Compression</c> set; 0 skips those transfers.</summary>
    public required long CompressedTransferBytes { get; init; }

    /// <summary>How long one transfer may take before it is declared hung.</summary>
    public TimeSpan Timeout { get; init; } = TimeSpan.FromSeconds(120);

    /// <summary>About 30 s: 256 MiB each way, one run of everything.</summary>
    public static BulkOptions Quick => new()
    {
        Mode = "quick",
        TransferBytes = 256 * MiB,
        TransferRuns = 1,
        CodecPayloadBytes = (int)(64 * MiB),
        CodecRuns = 1,
        CompressedTransferBytes = 64 * MiB,
    };

    /// <summary>1 GiB each way, five transfer runs (loopback throughput swings a lot between runs on a shared VM), three codec passes.</summary>
    public static BulkOptions Full => new()
    {
        Mode = "full",
        TransferBytes = 1024 * MiB,
        TransferRuns = 5,
        CodecPayloadBytes = (int)(64 * MiB),
        CodecRuns = 3,
        CompressedTransferBytes = 256 * MiB,
    };
}
