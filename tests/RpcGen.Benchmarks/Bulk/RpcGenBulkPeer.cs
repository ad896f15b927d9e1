using RpcGen.Benchmarks.Peers.RpcGen;
using RpcGen.Compression;
using RpcGen.Transport.Message;

namespace RpcGen.Benchmarks.Bulk;

/// <summary>
/// RpcGen's message transport over loopback TCP: an <see cref="RpcServer"/> serving
/// <see cref="BulkTransferService"/> and one <see cref="RpcClient"/> calling it through the generated
/// proxy, with default options apart from the codec.
/// </summary>
public sealed class RpcGenBulkPeer : IBulkPeer
{
    private readonly RpcServer _server;
    private readonly RpcClient _client;
    private readonly IBulkTransferService _service;
    private readonly byte[] _chunk;
    private readonly byte[] _buffer = new byte[BulkOptions.ChunkBytes];

    private RpcGenBulkPeer(RpcServer server, RpcClient client, byte[] chunk, CountingRelay? relay)
    {
        _server = server;
        Relay = relay;
        _client = client;
        _chunk = chunk;
        _service = client.GetService<IBulkTransferService>();
    }

    /// <summary>The relay between client and server when started with one, to count bytes on the wire.</summary>
    public CountingRelay? Relay { get; }

    /// <summary>
    /// Starts a server whose downloads repeat <paramref name="chunk"/>, and a client that sends with
    /// <paramref name="codec"/>, connected directly or through a <see cref="CountingRelay"/>.
    /// </summary>
    /// <paramref name="tls"/> runs the link over mutual TLS 1.3 with the certificates of <see cref="BenchTls"/>,
    /// ChaCha20-Poly1305 first (the default) or, with <paramref name="aesFirst"/>, AES-128-GCM first.
    public static async Task<RpcGenBulkPeer> StartAsync(byte[] chunk, RpcCompression codec, bool throughRelay = false, bool tls = false, bool aesFirst = false)
    {
        var server = new RpcServer(new RpcServerOptions { Tls = tls ? BenchTls.Server(psk: false, aesFirst) : null });
        CountingRelay? relay = null;
        try
        {
            server.AddService<IBulkTransferService>(new BulkTransferService(chunk));
            await server.StartAsync(tls ? "tls://127.0.0.1:0" : "tcp://127.0.0.1:0").ConfigureAwait(false);
            relay = throughRelay ? CountingRelay.Start(server.Addresses[0]) : null;
            var client = await RpcClient.ConnectAsync(relay?.Address ?? server.Addresses[0], new RpcClientOptions { Compression = codec, Tls = tls ? BenchTls.Client(psk: false, aesFirst) : null }).ConfigureAwait(false);
            return new RpcGenBulkPeer(server, client, chunk, relay);
        }
        catch
        {
            if (relay is not null)
            {
                await relay.DisposeAsync().ConfigureAwait(false);
            }

            await server.DisposeAsync().ConfigureAwait(false);
            throw;
        }
    }

    public async Task<long> DownloadAsync(long bytes)
    {
        var stream = await _service.DownloadAsync(bytes).ConfigureAwait(false);
        await using (stream.ConfigureAwait(false))
        {
            long received = 0;
            int read;
            while ((read = await stream.ReadAsync(_buffer).ConfigureAwait(false)) > 0)
            {
                received += read;
            }

            return received;
        }
    }

    public Task<long> UploadAsync(long bytes) => _service.UploadAsync(new RepeatingReadStream(_chunk, bytes));

    public async ValueTask DisposeAsync()
    {
        await _client.DisposeAsync().ConfigureAwait(false);
        if (Relay is not null)
        {
            await Relay.DisposeAsync().ConfigureAwait(false);
        }

        await _server.DisposeAsync().ConfigureAwait(false);
    }
}
