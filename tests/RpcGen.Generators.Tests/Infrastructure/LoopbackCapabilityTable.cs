namespace RpcGen.Generators.Tests.Infrastructure;

/// <summary>
/// One side's table of services passed by reference over a loopback "connection": what this side
/// exported, and proxies for what the peer exported. It keeps the rules a transport keeps (a reference
/// to the peer's own object goes home as the peer's id; a released reference cannot be called), with
/// no wire underneath: a call through an imported reference is a <see cref="LoopbackChannel"/> to the
/// exporting side's dispatcher.
/// </summary>
internal sealed class LoopbackCapabilityTable : IRpcCapabilityTable
{
    private readonly Dictionary<uint, (object Implementation, IRpcDispatcher Dispatcher)> _exports = [];
    private uint _lastId;

    private LoopbackCapabilityTable()
    {
    }

    /// <summary>The other side of the connection.</summary>
    public LoopbackCapabilityTable Peer { get; private set; } = null!;

    /// <summary>The ids of this side's exports the peer released, in order.</summary>
    public List<uint> Released { get; } = [];

    /// <summary>How many objects this side exported.</summary>
    public int ExportCount => _exports.Count;

    /// <summary>The two sides of a connection: the client's table and the server's.</summary>
    public static (LoopbackCapabilityTable Client, LoopbackCapabilityTable Server) CreatePair()
    {
        var client = new LoopbackCapabilityTable();
        var server = new LoopbackCapabilityTable();
        client.Peer = server;
        server.Peer = client;
        return (client, server);
    }

    public RpcCapabilityReference Export<TService>(TService implementation)
        where TService : class
    {
        if (implementation is IRpcProxy { Channel: ImportedReference imported } && imported.Exporter == Peer && !imported.IsReleased)
        {
            return new RpcCapabilityReference(imported.ExportId, ReceiverHosted: true);
        }

        foreach (var (id, export) in _exports)
        {
            if (ReferenceEquals(export.Implementation, implementation))
            {
                return new RpcCapabilityReference(id, ReceiverHosted: false);
            }
        }

        var newId = ++_lastId;
        _exports.Add(newId, (implementation, RpcServiceRegistry.CreateDispatcher(implementation)));
        return new RpcCapabilityReference(newId, ReceiverHosted: false);
    }

    public TService Import<TService>(RpcCapabilityReference reference)
        where TService : class
    {
        if (reference.ReceiverHosted)
        {
            return _exports.TryGetValue(reference.Id, out var own) && own.Implementation is TService service
                ? service
                : throw new RpcException(RpcStatusCode.InvalidPayload, $"Object {reference.Id} is not one of this side's exports.");
        }

        if (!Peer._exports.TryGetValue(reference.Id, out var export))
        {
            throw new RpcException(RpcStatusCode.InvalidPayload, $"The peer never exported object {reference.Id}.");
        }

        var channel = new LoopbackChannel(export.Dispatcher, client: this, server: Peer);
        return RpcServiceRegistry.CreateProxy<TService>(new ImportedReference(Peer, reference.Id, channel));
    }

    private void Release(uint id)
    {
        _exports.Remove(id);
        Released.Add(id);
    }

    /// <summary>The channel behind a proxy for an object the peer exported.</summary>
    private sealed class ImportedReference(LoopbackCapabilityTable exporter, uint exportId, LoopbackChannel channel) : IRpcCapabilityChannel
    {
        public LoopbackCapabilityTable Exporter => exporter;

        public uint ExportId => exportId;

        public bool IsReleased { get; private set; }

        public ValueTask<TResponse> InvokeAsync<TRequest, TResponse>(RpcMethod<TRequest, TResponse> method, TRequest request, CancellationToken cancellationToken) =>
            IsReleased ? ValueTask.FromException<TResponse>(Released()) : channel.InvokeAsync(method, request, cancellationToken);

        public ValueTask SendAsync<TRequest>(RpcMethod<TRequest, RpcVoid> method, TRequest request) =>
            IsReleased ? ValueTask.FromException(Released()) : channel.SendAsync(method, request);

        public IAsyncEnumerable<TResponse> InvokeServerStreaming<TRequest, TResponse>(RpcStreamingMethod<TRequest, RpcVoid, TResponse> method, TRequest request, CancellationToken cancellationToken) =>
            IsReleased ? throw Released() : channel.InvokeServerStreaming(method, request, cancellationToken);

        public ValueTask DisposeAsync()
        {
            if (!IsReleased)
            {
                IsReleased = true;
                exporter.Release(exportId);
            }

            return default;
        }

        private RpcException Released() => new(RpcStatusCode.Disconnected, $"The reference to object {exportId} was released.");
    }
}
