using RpcGen.Transport.Message;

namespace RpcGen.Balancing.Tests;

/// <summary>
/// Several in-process <see cref="RpcServer"/>s, each on its own loopback address (127.0.0.2, .3, …,
/// all of them the loopback interface on Linux) and port, each serving one <see cref="Replica"/>.
/// </summary>
internal sealed class ReplicaSet : IAsyncDisposable
{
    public static readonly TimeSpan Timeout = TimeSpan.FromSeconds(60);

    private ReplicaSet(Replica[] replicas, RpcServer[] servers)
    {
        Replicas = replicas;
        Servers = servers;
    }

    public Replica[] Replicas { get; }

    public RpcServer[] Servers { get; }

    public string[] Addresses => [.. Servers.Select(server => server.Addresses[0])];

    public Replica this[int index] => Replicas[index];

    public static async Task<ReplicaSet> StartAsync(int count)
    {
        var replicas = new Replica[count];
        var servers = new RpcServer[count];
        for (var i = 0; i < count; i++)
        {
            replicas[i] = new Replica($"r{i}");
            servers[i] = new RpcServer();
            servers[i].AddService<IReplicaService>(replicas[i]);
            await servers[i].StartAsync($"tcp://127.0.0.{i + 2}:0");
        }

        return new ReplicaSet(replicas, servers);
    }

    /// <summary>A balanced client over these replicas, with every endpoint connected before it is returned.</summary>
    public async Task<RpcBalancedClient> ConnectAsync(RpcBalancedClientOptions options)
    {
        var client = RpcBalancedClient.Create(new RpcStaticEndpointResolver("replicas", Addresses), options);
        await client.WaitForReadyAsync(Servers.Length).WaitAsync(Timeout);
        return client;
    }

    public async ValueTask DisposeAsync()
    {
        foreach (var replica in Replicas)
        {
            replica.Release();
        }

        foreach (var server in Servers)
        {
            await server.StopAsync(TimeSpan.FromSeconds(5));
        }
    }
}
