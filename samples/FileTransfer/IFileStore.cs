using RpcGen;

namespace FileTransfer;

/// <summary>Bulk data as plain <see cref="Stream"/>s: the generator turns them into flow-controlled byte streams.</summary>
[RpcService]
public interface IFileStore
{
    /// <summary>Stores a file; returns the SHA-256 (hex) of what arrived.</summary>
    Task<string> UploadAsync(string name, Stream content, CancellationToken cancellationToken = default);

    /// <summary>Reads a file back.</summary>
    Task<Stream> DownloadAsync(string name, CancellationToken cancellationToken = default);
}
