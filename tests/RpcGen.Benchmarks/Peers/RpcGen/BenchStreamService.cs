using System.Buffers;
using System.Runtime.CompilerServices;
using RpcGen.Benchmarks.Contracts;

namespace RpcGen.Benchmarks.Peers.RpcGen;

/// <summary>The server side of <see cref="IBenchStreamService"/>.</summary>
public sealed class BenchStreamService : IBenchStreamService
{
    public async IAsyncEnumerable<StreamItem> StreamItemsAsync(int count, [EnumeratorCancellation] CancellationToken cancellationToken)
    {
        for (var i = 0; i < count; i++)
        {
            cancellationToken.ThrowIfCancellationRequested();
            yield return new StreamItem { Sequence = i, Value = i * 3L };
        }

        await Task.CompletedTask.ConfigureAwait(false);
    }

    public async ValueTask<long> UploadAsync(Stream data, CancellationToken cancellationToken)
    {
        var buffer = ArrayPool<byte>.Shared.Rent(64 * 1024);
        try
        {
            long total = 0;
            int read;
            while ((read = await data.ReadAsync(buffer, cancellationToken).ConfigureAwait(false)) > 0)
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
