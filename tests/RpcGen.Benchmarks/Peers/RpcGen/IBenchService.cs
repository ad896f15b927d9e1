using RpcGen.Benchmarks.Contracts;

namespace RpcGen.Benchmarks.Peers.RpcGen;

/// <summary>The comparison service as an RpcGen contract; the generator emits its proxy, dispatcher and formatters.</summary>
[RpcService]
public interface IBenchService
{
    ValueTask PingAsync();

    ValueTask<SmallMessage> EchoSmallAsync(SmallMessage request);

    ValueTask<BenchmarkMessage> EchoMessageAsync(BenchmarkMessage request);

    ValueTask<byte[]> EchoBytesAsync(byte[] data);
}
