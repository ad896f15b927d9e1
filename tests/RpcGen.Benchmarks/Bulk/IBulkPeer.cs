namespace RpcGen.Benchmarks.Bulk;

/// <summary>One side of the bulk comparison: moves a number of bytes each way over its own connection.</summary>
public interface IBulkPeer : IAsyncDisposable
{
    /// <summary>Downloads <paramref name="bytes"/> bytes; returns how many arrived.</summary>
    Task<long> DownloadAsync(long bytes);

    /// <summary>Uploads <paramref name="bytes"/> bytes; returns how many the server counted.</summary>
    Task<long> UploadAsync(long bytes);
}
