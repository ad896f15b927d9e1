namespace RpcGen.Benchmarks.Bulk;

/// <summary>Everything one <c>--bulk</c> run measured, ready to render.</summary>
public sealed record BulkReport
{
    public required string Command { get; init; }

    public required BulkOptions Options { get; init; }

    public required DateTimeOffset Started { get; init; }

    public required double TotalSeconds { get; init; }

    public required string Machine { get; init; }

    public required double LoadBefore { get; init; }

    public required double LoadAfter { get; init; }

    /// <summary>Uncompressed transfers: raw socket copy and RpcGen, each direction.</summary>
    public required IReadOnlyList<TransferResult> Transfers { get; init; }

    /// <summary>RpcGen transfers of text-like data with <c>RpcClientOptions.Compression</c> set.</summary>
    public required IReadOnlyList<TransferResult> CompressedTransfers { get; init; }

    public required IReadOnlyList<CodecResult> Codecs { get; init; }
}
