using RpcGen.Links;

namespace RpcGen.Capnp.Tests.Rpc;

/// <summary>Two connections over an in-memory link: a client, and a server whose bootstrap is a <see cref="TestServiceServer"/>.</summary>
internal sealed class LoopbackPair : IAsyncDisposable
{
    private readonly RpcLink _serverLink;
    private CapnpConnection? _server;

    private LoopbackPair(CapnpConnection client, RpcLink serverLink, TestServiceServer service)
    {
        Client = client;
        _serverLink = serverLink;
        Service = service;
    }

    public CapnpConnection Client { get; }

    public CapnpConnection Server => _server ?? throw new InvalidOperationException("The server side was not started.");

    public TestServiceServer Service { get; }

    /// <param name="startServer">False to let the client queue messages before the server reads any (then call <see cref="StartServer"/>).</param>
    public static LoopbackPair Create(bool startServer = true)
    {
        var (clientLink, serverLink) = RpcLinks.CreateMemoryPair();
        var pair = new LoopbackPair(CapnpConnection.Start(clientLink), serverLink, new TestServiceServer());
        if (startServer)
        {
            pair.StartServer();
        }

        return pair;
    }

    public void StartServer()
    {
        using var bootstrap = Capability.FromServer(Service);
        _server = CapnpConnection.Start(_serverLink, new CapnpConnectionOptions { Bootstrap = bootstrap });
    }

    public async ValueTask DisposeAsync()
    {
        await Client.DisposeAsync();
        if (_server is not null)
        {
            await _server.DisposeAsync();
        }
        else
        {
            await _serverLink.DisposeAsync();
        }
    }
}
