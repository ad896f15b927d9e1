using RpcGen.Compression;

namespace RpcGen.Benchmarks.Bulk;

/// <summary>The measured runs of one peer moving bytes one way.</summary>
public sealed record TransferResult
{
    public required string Peer { get; init; }

    public required TransferDirection Direction { get; init; }

    public RpcCompression Codec { get; init; }

    /// <summary>What the data was (random or text-like); decides what compression can do.</summary>
    public required string Data { get; init; }

    public required long BytesPerRun { get; init; }

    public List<double> RunSeconds { get; init; } = [];

    /// <summary>Bytes allocated process-wide (client + server) over the measured runs.</summary>
    public long AllocatedBytes { get; set; }

    public string? Failure { get; set; }

    /// <summary>Payload bytes of the untimed transfer sent through a <see cref="CountingRelay"/>; 0 when none was.</summary>
    public long WireSampleBytes { get; set; }

    /// <summary>Bytes that transfer put on the wire in its direction, frame headers included.</summary>
    public long WireBytes { get; set; }

    /// <summary>Payload ÷ wire bytes: above 1 when compression shrank the transfer; null when not sampled.</summary>
    public double? WireRatio => WireSampleBytes > 0 && WireBytes > 0 ? (double)WireSampleBytes / WireBytes : null;

    public bool IsMeasured => Failure is null && RunSeconds.Count > 0;

    public double MedianSeconds => BulkMath.Median(RunSeconds);

    public double MebibytesPerSecond => BytesPerRun / (double)BulkOptions.MiB / MedianSeconds;

    public double SlowestMebibytesPerSecond => BytesPerRun / (double)BulkOptions.MiB / RunSeconds.Max();

    public double FastestMebibytesPerSecond => BytesPerRun / (double)BulkOptions.MiB / RunSeconds.Min();

    public double AllocatedBytesPerMebibyte => AllocatedBytes / (BytesPerRun * (double)RunSeconds.Count / BulkOptions.MiB);
}
