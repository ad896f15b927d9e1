using System.Runtime.CompilerServices;
using RpcGen.Benchmarks.Contracts;
using StreamJsonRpc;

namespace RpcGen.Benchmarks.Peers.JsonRpc;

/// <summary>The server side of <see cref="IBenchJsonRpc"/>: every unary method echoes its request.</summary>
public sealed class JsonRpcBenchTarget : IBenchJsonRpc
{
    /// <summary>How the server batches a returned stream; StreamJsonRpc's default (1) makes one round trip per item.</summary>
    public static readonly JsonRpcEnumerableSettings StreamSettings = new() { MinBatchSize = 256, MaxReadAhead = 4096, Prefetch = 256 };

    public Task PingAsync() => Task.CompletedTask;

    public Task<SmallMessage> EchoSmallAsync(SmallMessage request) => Task.FromResult(request);

    public Task<BenchmarkMessage> EchoMessageAsync(BenchmarkMessage request) => Task.FromResult(request);

    public Task<byte[]> EchoBytesAsync(byte[] data) => Task.FromResult(data);

    public IAsyncEnumerable<StreamItem> StreamItemsAsync(int count, CancellationToken cancellationToken) =>
        Generate(count, cancellationToken).WithJsonRpcSettings(StreamSettings);

    public async Task<long> UploadAsync(IAsyncEnumerable<byte[]> chunks, CancellationToken cancellationToken)
    {
        long total = 0;
        await foreach (var chunk in chunks.WithCancellation(cancellationToken).ConfigureAwait(false))
        {
            total += chunk.Length;
        }

        return total;
    }

    private static async IAsyncEnumerable<StreamItem> Generate(int count, [EnumeratorCancellation] CancellationToken cancellationToken)
    {
        for (var i = 0; i < count; i++)
        {
            cancellationToken.ThrowIfCancellationRequested();
            yield return new StreamItem { Sequence = i, Value = i * 3L };
        }

        await Task.CompletedTask.ConfigureAwait(false);
    }
}
