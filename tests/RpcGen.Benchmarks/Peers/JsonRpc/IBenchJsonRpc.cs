using RpcGen.Benchmarks.Contracts;
using StreamJsonRpc;

namespace RpcGen.Benchmarks.Peers.JsonRpc;

/// <summary>The comparison service as a StreamJsonRpc contract.</summary>
[JsonRpcContract]
public partial interface IBenchJsonRpc
{
    Task PingAsync();

    Task<SmallMessage> EchoSmallAsync(SmallMessage request);

    Task<BenchmarkMessage> EchoMessageAsync(BenchmarkMessage request);

    Task<byte[]> EchoBytesAsync(byte[] data);

    IAsyncEnumerable<StreamItem> StreamItemsAsync(int count, CancellationToken cancellationToken);

    Task<long> UploadAsync(IAsyncEnumerable<byte[]> chunks, CancellationToken cancellationToken);
}
