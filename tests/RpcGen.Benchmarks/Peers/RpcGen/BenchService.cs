using RpcGen.Benchmarks.Contracts;

namespace RpcGen.Benchmarks.Peers.RpcGen;

/// <summary>The server side of <see cref="IBenchService"/>: every method echoes its request.</summary>
public sealed class BenchService : IBenchService
{
    public ValueTask PingAsync() => default;

    public ValueTask<SmallMessage> EchoSmallAsync(SmallMessage request) => new(request);

    public ValueTask<BenchmarkMessage> EchoMessageAsync(BenchmarkMessage request) => new(request);

    public ValueTask<byte[]> EchoBytesAsync(byte[] data) => new(data);
}
