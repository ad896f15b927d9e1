namespace RpcGen.Balancing.Tests;

/// <summary>What the in-process replicas serve: each call reports which replica ran it.</summary>
[RpcService]
public interface IReplicaService
{
    /// <summary>Not idempotent: the replica's name, after whatever the replica's gate holds it for.</summary>
    Task<string> WorkAsync(int id);

    /// <summary>Idempotent: the replica's name, or the failure the replica is told to answer with.</summary>
    [Idempotent]
    Task<string> ReadAsync(int id, CancellationToken cancellationToken = default);

    /// <summary>A server stream of <paramref name="count"/> copies of the replica's name.</summary>
    IAsyncEnumerable<string> WatchAsync(int count);
}
