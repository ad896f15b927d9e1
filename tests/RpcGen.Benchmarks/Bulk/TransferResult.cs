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

    public bool IsMeasured => Failure is null && RunSeconds.Count > 0;

    public double MedianSeconds => BulkMath.Median(RunSeconds);

    public double MebibytesPerSecond => BytesPerRun / (double)BulkOptions.MiB / MedianSeconds;

    public double SlowestMebibytesPerSecond => BytesPerRun / (double)BulkOptions.MiB / RunSeconds.Max();

    public double FastestMebibytesPerSecond => BytesPerRun / (double)BulkOptions.MiB / RunSeconds.Min();

    public double AllocatedBytesPerMebibyte => AllocatedBytes / (BytesPerRun * (double)RunSeconds.Count / BulkOptions.MiB);
}
