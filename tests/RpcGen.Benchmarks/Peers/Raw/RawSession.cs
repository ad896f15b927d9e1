using RpcGen.Benchmarks.Contracts;
using RpcGen.Benchmarks.Harness;

namespace RpcGen.Benchmarks.Peers.Raw;

/// <summary>The raw floor as a <see cref="PeerSession"/>.</summary>
public sealed class RawSession : PeerSession
{
    private readonly RawServer _server;
    private readonly RawClient _client;
    private readonly SmallMessage _small = BenchData.CreateSmall();
    private readonly BenchmarkMessage _message = BenchData.CreateBenchmarkMessage();
    private readonly byte[] _bytes = BenchData.CreateLargePayload();

    private RawSession(PeerKind peer, LinkKind link, RawServer server, RawClient client)
    {
        Peer = peer;
        Link = link;
        _server = server;
        _client = client;
    }

    public override PeerKind Peer { get; }

    public override LinkKind Link { get; }

    public override string ConfigurationNote => Peer == PeerKind.RawCoalesced
        ? "frames written while a send is in flight go out together; the server answers all frames of one receive with one send"
        : "one send per frame on both sides (client sends under a lock), replies computed inline on the server's receive loop";

    public static async Task<RawSession> StartAsync(LinkKind link, RawSendMode mode)
    {
        var server = RawServer.Start(link, mode);
        var client = await RawClient.ConnectAsync(server.EndPoint, mode).ConfigureAwait(false);
        return new RawSession(mode == RawSendMode.Coalesced ? PeerKind.RawCoalesced : PeerKind.Raw, link, server, client);
    }

    public override CallerDriver? CreateUnaryDriver(Workload workload, out string? unavailableReason)
    {
        unavailableReason = null;
        var client = _client;
        return workload switch
        {
            Workload.Empty => recorder => CallLoop.RunAsync(client.PingAsync, recorder),
            Workload.Small => recorder => CallLoop.RunAsync(() => client.EchoSmallAsync(_small), recorder),
            Workload.Message => recorder => CallLoop.RunAsync(() => client.EchoMessageAsync(_message), recorder),
            Workload.Bytes64K => recorder => CallLoop.RunAsync(() => client.EchoBytesAsync(_bytes), recorder),
            _ => throw new ArgumentOutOfRangeException(nameof(workload)),
        };
    }

    public override Func<Task<long>>? CreateServerStream(int count, out string? unavailableReason)
    {
        unavailableReason = null;
        return () => _client.StreamItemsAsync(count);
    }

    public override Func<Task<long>>? CreateUpload(long totalBytes, int chunkBytes, out string? unavailableReason)
    {
        unavailableReason = null;
        var chunk = BenchData.CreateChunk(chunkBytes);
        return () => _client.UploadAsync(totalBytes, chunk);
    }

    public override async Task VerifyAsync()
    {
        var name = Peer.Display();
        await _client.PingAsync().ConfigureAwait(false);
        EchoCheck.Small(_small, await _client.EchoSmallAsync(_small).ConfigureAwait(false), name);
        EchoCheck.Message(_message, await _client.EchoMessageAsync(_message).ConfigureAwait(false), name);
        var echoed = await _client.EchoBytesAsync(_bytes).ConfigureAwait(false);
        EchoCheck.Bytes(_bytes, echoed, name);
        EchoCheck.Count(10, await _client.StreamItemsAsync(10).ConfigureAwait(false), name, "stream items");
        EchoCheck.Count(100_000, await _client.UploadAsync(100_000, BenchData.CreateChunk(4096)).ConfigureAwait(false), name, "uploaded bytes");
    }

    public override async ValueTask DisposeAsync()
    {
        await _client.DisposeAsync().ConfigureAwait(false);
        await _server.DisposeAsync().ConfigureAwait(false);
    }
}
