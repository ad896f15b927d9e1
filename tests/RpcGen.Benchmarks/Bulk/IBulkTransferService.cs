namespace RpcGen.Benchmarks.Bulk;

/// <summary>Bulk transfer through RpcGen <see cref="Stream"/> methods: the server makes or discards the bytes, never stores them.</summary>
[RpcService]
public interface IBulkTransferService
{
    /// <summary>Streams <paramref name="bytes"/> bytes to the caller.</summary>
    Task<Stream> DownloadAsync(long bytes);

    /// <summary>Reads <paramref name="data"/> to its end, discarding it; returns the byte count.</summary>
    Task<long> UploadAsync(Stream data);
}
