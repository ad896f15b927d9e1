namespace RpcGen.Capnp.Tests.Streaming;

/// <summary>A <see cref="StreamsService"/> served over TCP or a Unix socket, and a client connected to it.</summary>
internal sealed class StreamPair : IAsyncDisposable
{
    public static readonly TimeSpan Timeout = TimeSpan.FromSeconds(30);

    private StreamPair(CapnpServer server, CapnpConnection client, StreamsService service, IStreams streams)
    {
        Server = server;
        Client = client;
        Service = service;
        Streams = streams;
    }

    public CapnpServer Server { get; }

    public CapnpConnection Client { get; }

    public StreamsService Service { get; }

    public IStreams Streams { get; }

    /// <summary>The server's side of the connection.</summary>
    public CapnpConnection ServerConnection => Server.Connections.Single();

    public static TheoryData<string> Transports => ["tcp", "unix"];

    public static string Address(string transport) => transport == "tcp"
        ? "tcp://127.0.0.1:0"
        : "unix:" + Path.Combine(Path.GetTempPath(), $"rpcgen-streams-{Guid.NewGuid():N}.sock");

    public static async Task<StreamPair> StartAsync(string transport, CapnpConnectionOptions? serverOptions = null, CapnpConnectionOptions? clientOptions = null)
    {
        var service = new StreamsService();
        var server = CapnpServer.Listen<IStreams>(Address(transport), service, serverOptions);
        var client = await CapnpConnection.ConnectAsync(server.Address, clientOptions).WaitAsync(Timeout);
        return new StreamPair(server, client, service, client.Bootstrap<IStreams>());
    }

    public async ValueTask DisposeAsync()
    {
        ((IDisposable)Streams).Dispose();
        await Client.DisposeAsync();
        await Server.DisposeAsync();
    }
}
