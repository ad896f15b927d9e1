using RpcGen.Benchmarks.Contracts;

namespace RpcGen.Benchmarks.Peers.RpcGen;

/// <summary>The streaming half of the comparison service: a server stream of small items and a raw byte upload.</summary>
[RpcService]
public interface IBenchStreamService
{
    IAsyncEnumerable<StreamItem> StreamItemsAsync(int count, CancellationToken cancellationToken);

    ValueTask<long> UploadAsync(Stream data, CancellationToken cancellationToken);
}
