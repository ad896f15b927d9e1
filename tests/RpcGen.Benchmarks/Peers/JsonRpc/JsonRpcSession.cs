using System.Net;
using System.Net.Sockets;
using System.Runtime.CompilerServices;
using RpcGen.Benchmarks.Contracts;
using RpcGen.Benchmarks.Harness;
using StreamJsonRpc;

namespace RpcGen.Benchmarks.Peers.JsonRpc;

/// <summary>
/// StreamJsonRpc as a <see cref="PeerSession"/>: <see cref="MessagePackFormatter"/> (MessagePack 2.x)
/// with <see cref="LengthHeaderMessageHandler"/> over a <see cref="NetworkStream"/> on each side, and
/// a typed proxy on the client.
/// </summary>
public sealed class JsonRpcSession : PeerSession
{
    private static readonly JsonRpcEnumerableSettings UploadSettings = new() { MinBatchSize = 16, MaxReadAhead = 64 };

    private readonly Socket _listener;
    private readonly EndPoint _endPoint;
    private readonly StreamJsonRpc.JsonRpc _serverRpc;
    private readonly StreamJsonRpc.JsonRpc _clientRpc;
    private readonly IBenchJsonRpc _proxy;
    private readonly SmallMessage _small = BenchData.CreateSmall();
    private readonly BenchmarkMessage _message = BenchData.CreateBenchmarkMessage();
    private readonly byte[] _bytes = BenchData.CreateLargePayload();

    private JsonRpcSession(LinkKind link, Socket listener, EndPoint endPoint, StreamJsonRpc.JsonRpc serverRpc, StreamJsonRpc.JsonRpc clientRpc)
    {
        Link = link;
        _listener = listener;
        _endPoint = endPoint;
        _serverRpc = serverRpc;
        _clientRpc = clientRpc;
        _proxy = clientRpc.Attach<IBenchJsonRpc>();
    }

    public override PeerKind Peer => PeerKind.StreamJsonRpc;

    public override LinkKind Link { get; }

    public override string ConfigurationNote =>
        "MessagePackFormatter + LengthHeaderMessageHandler over NetworkStream, typed proxy; server stream as IAsyncEnumerable " +
        "with MinBatchSize=256/Prefetch=256; upload as an IAsyncEnumerable<byte[]> argument with MinBatchSize=16";

    public static async Task<JsonRpcSession> StartAsync(LinkKind link)
    {
        var listener = Loopback.Listen(link, "jsonrpc", out var endPoint);
        var accepting = listener.AcceptAsync();
        var clientSocket = await Loopback.ConnectAsync(endPoint).ConfigureAwait(false);
        var serverSocket = await accepting.ConfigureAwait(false);
        if (serverSocket.ProtocolType == ProtocolType.Tcp)
        {
            serverSocket.NoDelay = true;
        }

        var serverRpc = Create(serverSocket);
        serverRpc.AddLocalRpcTarget<IBenchJsonRpc>(new JsonRpcBenchTarget(), null);
        serverRpc.StartListening();

        var clientRpc = Create(clientSocket);
        var session = new JsonRpcSession(link, listener, endPoint, serverRpc, clientRpc);
        clientRpc.StartListening();
        return session;
    }

    public override CallerDriver? CreateUnaryDriver(Workload workload, out string? unavailableReason)
    {
        unavailableReason = null;
        var proxy = _proxy;
        return workload switch
        {
            Workload.Empty => recorder => CallLoop.RunAsync(() => new ValueTask(proxy.PingAsync()), recorder),
            Workload.Small => recorder => CallLoop.RunAsync(() => new ValueTask<SmallMessage>(proxy.EchoSmallAsync(_small)), recorder),
            Workload.Message => recorder => CallLoop.RunAsync(() => new ValueTask<BenchmarkMessage>(proxy.EchoMessageAsync(_message)), recorder),
            Workload.Bytes64K => recorder => CallLoop.RunAsync(() => new ValueTask<byte[]>(proxy.EchoBytesAsync(_bytes)), recorder),
            _ => throw new ArgumentOutOfRangeException(nameof(workload)),
        };
    }

    public override Func<Task<long>>? CreateServerStream(int count, out string? unavailableReason)
    {
        unavailableReason = null;
        return async () =>
        {
            long received = 0;
            await foreach (var item in _proxy.StreamItemsAsync(count, CancellationToken.None).ConfigureAwait(false))
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
        return () => _proxy.UploadAsync(Chunks(totalBytes, chunk).WithJsonRpcSettings(UploadSettings), CancellationToken.None);
    }

    public override async Task VerifyAsync()
    {
        const string name = "StreamJsonRpc";
        await _proxy.PingAsync().ConfigureAwait(false);
        EchoCheck.Small(_small, await _proxy.EchoSmallAsync(_small).ConfigureAwait(false), name);
        EchoCheck.Message(_message, await _proxy.EchoMessageAsync(_message).ConfigureAwait(false), name);
        var echoed = await _proxy.EchoBytesAsync(_bytes).ConfigureAwait(false);
        EchoCheck.Bytes(_bytes, echoed, name);
        EchoCheck.Count(10, await CreateServerStream(10, out _)!().ConfigureAwait(false), name, "stream items");
        EchoCheck.Count(100_000, await CreateUpload(100_000, 4096, out _)!().ConfigureAwait(false), name, "uploaded bytes");
    }

    public override async ValueTask DisposeAsync()
    {
        _clientRpc.Dispose();
        _serverRpc.Dispose();
        await _clientRpc.Completion.ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing);
        await _serverRpc.Completion.ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing);
        _listener.Dispose();
        Loopback.DeleteSocketFile(_endPoint);
    }

    private static StreamJsonRpc.JsonRpc Create(Socket socket)
    {
        var stream = new NetworkStream(socket, ownsSocket: true);
        return new StreamJsonRpc.JsonRpc(new LengthHeaderMessageHandler(stream, stream, new MessagePackFormatter()));
    }

    private static async IAsyncEnumerable<byte[]> Chunks(long totalBytes, byte[] chunk, [EnumeratorCancellation] CancellationToken cancellationToken = default)
    {
        for (var remaining = totalBytes; remaining > 0;)
        {
            cancellationToken.ThrowIfCancellationRequested();
            var size = (int)Math.Min(chunk.Length, remaining);
            yield return size == chunk.Length ? chunk : chunk[..size];
            remaining -= size;
        }

        await Task.CompletedTask.ConfigureAwait(false);
    }
}
