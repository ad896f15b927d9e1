using RpcGen.Benchmarks.Contracts;
using RpcGen.Benchmarks.Harness;
using RpcGen.Security;
using RpcGen.Transport.Message;

namespace RpcGen.Benchmarks.Peers.RpcGen;

/// <summary>RpcGen's message transport as a <see cref="PeerSession"/>: an <see cref="RpcServer"/> and one <see cref="RpcClient"/>.</summary>
public sealed class RpcGenSession : PeerSession
{
    private readonly RpcServer _server;
    private readonly RpcClient _client;
    private readonly IBenchService _service;
    private readonly IBenchStreamService _streams;
    private readonly string? _socketPath;
    private readonly RpcHandlerExecution _execution;
    private readonly PeerKind _peer;
    private readonly SmallMessage _small = BenchData.CreateSmall();
    private readonly BenchmarkMessage _message = BenchData.CreateBenchmarkMessage();
    private readonly byte[] _bytes = BenchData.CreateLargePayload();

    private RpcGenSession(PeerKind peer, LinkKind link, RpcHandlerExecution execution, RpcServer server, RpcClient client, string? socketPath)
    {
        _peer = peer;
        _execution = execution;
        Link = link;
        _server = server;
        _client = client;
        _socketPath = socketPath;
        _service = client.GetService<IBenchService>();
        _streams = client.GetService<IBenchStreamService>();
    }

    public override PeerKind Peer => _peer;

    public override LinkKind Link { get; }

    public override string ConfigurationNote =>
        (_peer == PeerKind.RpcGenTls ? "TLS 1.3 (mutual, certificates generated at start-up), " : "") +
        (_peer == PeerKind.RpcGenTlsPsk ? "TLS 1.3 (mutual, certificates generated at start-up) with the RpcPskLayer inside, " : "") +
        (_execution == RpcHandlerExecution.Inline
            ? "message transport with HandlerExecution = Inline on server and client (handlers on the reader), otherwise defaults; generated"
            : "message transport with default RpcServerOptions/RpcClientOptions (handlers on the thread pool), generated") +
        " proxy and dispatcher; server stream as an " +
        "IAsyncEnumerable<StreamItem> result, upload as a Stream parameter (raw 64 KiB chunks under the transport's byte-credit flow control)";

    /// <summary>The server's address, for benchmarks that connect more clients.</summary>
    public string Address => _server.Addresses[0];

    /// <summary>The generated proxy, for benchmarks that call it directly.</summary>
    public IBenchService Service => _service;

    public static Task<RpcGenSession> StartAsync(LinkKind link, RpcHandlerExecution execution = RpcHandlerExecution.ThreadPool) =>
        StartAsync(execution == RpcHandlerExecution.Inline ? PeerKind.RpcGenInline : PeerKind.RpcGen, link);

    /// <summary>Starts one of the RpcGen peers: <see cref="PeerKind.RpcGen"/>, <see cref="PeerKind.RpcGenInline"/>, <see cref="PeerKind.RpcGenTls"/> or <see cref="PeerKind.RpcGenTlsPsk"/>.</summary>
    public static async Task<RpcGenSession> StartAsync(PeerKind peer, LinkKind link)
    {
        var execution = peer == PeerKind.RpcGenInline ? RpcHandlerExecution.Inline : RpcHandlerExecution.ThreadPool;
        var tls = peer is PeerKind.RpcGenTls or PeerKind.RpcGenTlsPsk;
        var psk = peer == PeerKind.RpcGenTlsPsk;
        var socketPath = link == LinkKind.Uds ? Loopback.NewUnixSocketPath("rpcgen") : null;
        var server = new RpcServer(new RpcServerOptions { HandlerExecution = execution, Tls = tls ? BenchTls.Server(psk) : null });
        try
        {
            server.AddService<IBenchService>(new BenchService());
            server.AddService<IBenchStreamService>(new BenchStreamService());
            var address = (tls, socketPath) switch
            {
                (false, null) => "tcp://127.0.0.1:0",
                (false, _) => "unix:" + socketPath,
                (true, null) => "tls://127.0.0.1:0",
                (true, _) => "tls+unix:" + socketPath,
            };
            await server.StartAsync(address).ConfigureAwait(false);
            var client = await RpcClient.ConnectAsync(server.Addresses[0], new RpcClientOptions { HandlerExecution = execution, Tls = tls ? BenchTls.Client(psk) : null }).ConfigureAwait(false);
            return new RpcGenSession(peer, link, execution, server, client, socketPath);
        }
        catch
        {
            await server.DisposeAsync().ConfigureAwait(false);
            throw;
        }
    }

    public override CallerDriver? CreateUnaryDriver(Workload workload, out string? unavailableReason)
    {
        unavailableReason = null;
        var service = _service;
        return workload switch
        {
            Workload.Empty => recorder => CallLoop.RunAsync(service.PingAsync, recorder),
            Workload.Small => recorder => CallLoop.RunAsync(() => service.EchoSmallAsync(_small), recorder),
            Workload.Message => recorder => CallLoop.RunAsync(() => service.EchoMessageAsync(_message), recorder),
            Workload.Bytes64K => recorder => CallLoop.RunAsync(() => service.EchoBytesAsync(_bytes), recorder),
            _ => throw new ArgumentOutOfRangeException(nameof(workload)),
        };
    }

    public override Func<Task<long>>? CreateServerStream(int count, out string? unavailableReason)
    {
        unavailableReason = null;
        var streams = _streams;
        return async () =>
        {
            long received = 0;
            await foreach (var item in streams.StreamItemsAsync(count, CancellationToken.None).ConfigureAwait(false))
            {
                _ = item;
                received++;
            }

            return received;
        };
    }

    public override Func<Task<long>>? CreateUpload(long totalBytes, int chunkBytes, out string? unavailableReason)
    {
        unavailableReason = null;
        var chunk = BenchData.CreateChunk(chunkBytes);
        var streams = _streams;
        return () => streams.UploadAsync(new RepeatingReadStream(chunk, totalBytes), CancellationToken.None).AsTask();
    }

    public override async Task VerifyAsync()
    {
        const string name = "RpcGen";
        await _service.PingAsync().ConfigureAwait(false);
        EchoCheck.Small(_small, await _service.EchoSmallAsync(_small).ConfigureAwait(false), name);
        EchoCheck.Message(_message, await _service.EchoMessageAsync(_message).ConfigureAwait(false), name);
        var echoed = await _service.EchoBytesAsync(_bytes).ConfigureAwait(false);
        EchoCheck.Bytes(_bytes, echoed, name);
        EchoCheck.Count(10, await CreateServerStream(10, out _)!().ConfigureAwait(false), name, "stream items");
        EchoCheck.Count(100_000, await CreateUpload(100_000, 4096, out _)!().ConfigureAwait(false), name, "uploaded bytes");
    }

    public override async ValueTask DisposeAsync()
    {
        await _client.DisposeAsync().ConfigureAwait(false);
        await _server.DisposeAsync().ConfigureAwait(false);
        if (_socketPath is not null && File.Exists(_socketPath))
        {
            File.Delete(_socketPath);
        }
    }
}
