using RpcGen.Compression;

namespace RpcGen.Benchmarks.Bulk;

/// <summary>One codec on one payload, compressed and decompressed in 64 KiB blocks with <see cref="RpcCodecs"/>.</summary>
public sealed record CodecResult
{
    public required string Payload { get; init; }

    public required RpcCompression Codec { get; init; }

    public required long InputBytes { get; init; }

    /// <summary>What would go on the wire: compressed blocks plus the blocks sent raw because compressing did not shrink them.</summary>
    public required long OutputBytes { get; init; }

    public required int Blocks { get; init; }

    public required int RawBlocks { get; init; }

    /// <summary>Median seconds to compress the whole payload, over the measured passes.</summary>
    public required double CompressSeconds { get; init; }

    /// <summary>Median seconds to decompress the compressed blocks; null when none was compressed.</summary>
    public double? DecompressSeconds { get; init; }

    /// <summary>Uncompressed bytes of the blocks that were compressed (what decompression produces).</summary>
    public required long DecompressedBytes { get; init; }

    public double Ratio => OutputBytes == 0 ? 0 : (double)InputBytes / OutputBytes;

    public double CompressMegabytesPerSecond => InputBytes / 1e6 / CompressSeconds;

    public double? DecompressMegabytesPerSecond => DecompressSeconds is { } seconds ? DecompressedBytes / 1e6 / seconds : null;
}
