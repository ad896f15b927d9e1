using RpcGen.Benchmarks.Bulk;
using RpcGen.Benchmarks.Peers.RpcGen;

namespace RpcGen.Benchmarks.SharedMemory;

/// <summary>What the shared-memory benchmark calls in its child server process.</summary>
[RpcService]
public interface IShmBenchService
{
    /// <summary>The unary round trip: small request, small answer.</summary>
    Task<int> AddAsync(int a, int b);

    /// <summary>The same round trip through a <see cref="ValueTask{TResult}"/>, which a call caught while spinning completes without allocating a task.</summary>
    ValueTask<int> AddValueAsync(int a, int b);

    /// <summary>Streams <paramref name="bytes"/> bytes (slices of one pre-filled chunk, so making data is not measured).</summary>
    Task<Stream> DownloadAsync(long bytes);
}

/// <summary>The child's implementation.</summary>
public sealed class ShmBenchService : IShmBenchService
{
    private readonly byte[] _chunk = new byte[BulkOptions.ChunkBytes];

    /// <inheritdoc />
    public Task<int> AddAsync(int a, int b) => Task.FromResult(a + b);

    /// <inheritdoc />
    public ValueTask<int> AddValueAsync(int a, int b) => new(a + b);

    /// <inheritdoc />
    public Task<Stream> DownloadAsync(long bytes) => Task.FromResult<Stream>(new RepeatingReadStream(_chunk, bytes));
}
