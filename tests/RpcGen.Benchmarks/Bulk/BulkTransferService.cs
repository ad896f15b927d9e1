using System.Buffers;
using RpcGen.Benchmarks.Peers.RpcGen;

namespace RpcGen.Benchmarks.Bulk;

/// <summary>
/// The server side of <see cref="IBulkTransferService"/>: downloads serve slices of one pre-filled
/// chunk and uploads are counted and dropped, so neither making nor storing data is measured.
/// </summary>
public sealed class BulkTransferService(byte[] chunk) : IBulkTransferService
{
    public Task<Stream> DownloadAsync(long bytes) => Task.FromResult<Stream>(new RepeatingReadStream(chunk, bytes));

    public async Task<long> UploadAsync(Stream data)
    {
        var buffer = ArrayPool<byte>.Shared.Rent(BulkOptions.ChunkBytes);
        try
        {
            long total = 0;
            int read;
            while ((read = await data.ReadAsync(buffer.AsMemory(0, BulkOptions.ChunkBytes)).ConfigureAwait(false)) > 0)
            {
                total += read;
            }

            return total;
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(buffer);
            await data.DisposeAsync().ConfigureAwait(false);
        }
    }
}
