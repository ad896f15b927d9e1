namespace RpcGen.Capnp.Tests.HandlerExecution;

/// <summary>
/// A <see cref="CapnpServer"/> serving a <see cref="BlockingProbeService"/> over a real socket (TCP or
/// Unix), and client connections to it, each with its own <see cref="RpcHandlerExecution"/>.
/// </summary>
internal sealed class ProbeConnections : IAsyncDisposable
{
    private static readonly TimeSpan Timeout = TimeSpan.FromSeconds(30);

    private readonly List<CapnpConnection> _clients = [];

    private ProbeConnections(CapnpServer server, ProbeState state)
    {
        Server = server;
        State = state;
    }

    public CapnpServer Server { get; }

    public ProbeState State { get; }

    /// <param name="transport"><c>tcp</c> or <c>unix</c>.</param>
    /// <param name="serverExecution">Where the server runs the probe's methods.</param>
    public static ProbeConnections Listen(string transport, RpcHandlerExecution serverExecution = RpcHandlerExecution.ThreadPool)
    {
        var address = transport switch
        {
            "tcp" => "tcp://127.0.0.1:0",
            "unix" => "unix:" + Path.Combine(Path.GetTempPath(), $"rpcgen-probe-{Guid.NewGuid():N}.sock"),
            _ => throw new ArgumentOutOfRangeException(nameof(transport), transport, "tcp or unix"),
        };
        var state = new ProbeState();
        var server = CapnpServer.Listen<IBlockingProbe>(address, new BlockingProbeService(state), new CapnpConnectionOptions { HandlerExecution = serverExecution });
        return new ProbeConnections(server, state);
    }

    /// <summary>A new client connection's bootstrap probe; <paramref name="clientExecution"/> is where the client runs the callbacks it exports.</summary>
    public async Task<IBlockingProbe> ConnectAsync(RpcHandlerExecution clientExecution = RpcHandlerExecution.ThreadPool)
    {
        var connection = await CapnpConnection.ConnectAsync(Server.Address, new CapnpConnectionOptions { HandlerExecution = clientExecution }).WaitAsync(Timeout);
        lock (_clients)
        {
            _clients.Add(connection);
        }

        return connection.Bootstrap<IBlockingProbe>();
    }

    public async ValueTask DisposeAsync()
    {
        State.Dispose();
        CapnpConnection[] clients;
        lock (_clients)
        {
            clients = [.. _clients];
        }

        foreach (var client in clients)
        {
            await client.DisposeAsync();
        }

        await Server.DisposeAsync();
    }
}
