using MessagePack;

namespace RpcGen.Transport.Message.Tests;

/// <summary>Stream frames that break flow control or refer to streams that do not exist abort that connection only.</summary>
public class StreamHostileInputTests
{
    private const ulong StreamingServiceId = 0x5E57_0000_0000_0002;
    private const uint CountMethod = 1;
    private const uint SumMethod = 2;
    private const uint IgnoreMethod = 8;
    private static readonly TimeSpan Timeout = TransportFixture.Timeout;

    private static readonly byte[] NoArguments = [0xC0];

    private static Task SendStreamFrameAsync(RawPeer peer, FrameKind kind, uint callId, uint methodField, byte[] payload) =>
        peer.SendAsync(FrameParserTests.Frame(new FrameHeader(kind, (byte)FrameFlags.FromCaller, payload.Length, callId, methodField, 0, 0), payload));

    private static async Task<uint> OpenIgnoredUploadAsync(RawPeer peer, uint callId)
    {
        await peer.SendFrameAsync(FrameKind.Request, callId, IgnoreMethod, StreamingServiceId, NoArguments);
        var credit = (await peer.ReadFrameAsync().WaitAsync(Timeout))!.Value.Header;
        Assert.Equal(FrameKind.StreamCredit, credit.Kind);
        Assert.Equal(callId, credit.CallId);
        return credit.MethodId;
    }

    private static byte[] Item(int value) => RawPeer.Pack((ref MessagePackWriter w) => w.Write(value));

    [Fact]
    public async Task Credit_beyond_any_window_is_refused()
    {
        await using var fixture = await TransportFixture.StartAsync("tcp");
        await using var peer = await RawPeer.ConnectAsync(fixture.Address);
        var arguments = RawPeer.Pack((ref MessagePackWriter w) =>
        {
            w.WriteArrayHeader(2);
            w.Write(0);
            w.Write(1_000_000);
        });

        await peer.SendFrameAsync(FrameKind.Request, 1, CountMethod, StreamingServiceId, arguments);
        await SendStreamFrameAsync(peer, FrameKind.StreamCredit, 1, uint.MaxValue, []);

        Assert.Contains("invalid amount of credit", await peer.ReadAbortReasonAsync(Timeout));
        Assert.Equal(2, await fixture.Client.GetService<IScenarioService>().AddAsync(1, 1).AsTask().WaitAsync(Timeout));
    }

    [Fact]
    public async Task Sending_past_the_window_is_refused()
    {
        await using var fixture = await TransportFixture.StartAsync("tcp", new RpcLimits { StreamWindowBytes = 64 * 1024 });
        await using var peer = await RawPeer.ConnectAsync(fixture.Address);
        var window = await OpenIgnoredUploadAsync(peer, 1);

        // The server never reads the stream, so no more credit comes: an item sent once the window
        // is used up is a violation. Each one-byte item costs 33 bytes of window.
        var frame = FrameParserTests.Frame(new FrameHeader(FrameKind.StreamItem, (byte)FrameFlags.FromCaller, 1, 1, 0, 0, 0), [0x07]);
        var count = (int)(window / frame.Length) + 3;
        await peer.SendAsync(Enumerable.Repeat(frame, count).SelectMany(f => f).ToArray());

        Assert.Contains("without credit", await peer.ReadAbortReasonAsync(Timeout));
    }

    [Fact]
    public async Task Data_after_the_end_of_a_stream_is_refused()
    {
        await using var fixture = await TransportFixture.StartAsync("tcp");
        await using var peer = await RawPeer.ConnectAsync(fixture.Address);
        await OpenIgnoredUploadAsync(peer, 1);

        await SendStreamFrameAsync(peer, FrameKind.StreamItem, 1, 0, Item(1));
        await SendStreamFrameAsync(peer, FrameKind.StreamEnd, 1, 0, []);
        await SendStreamFrameAsync(peer, FrameKind.StreamItem, 1, 0, Item(2));

        Assert.Contains("after its end", await peer.ReadAbortReasonAsync(Timeout));
    }

    [Fact]
    public async Task A_stream_frame_for_a_call_never_made_is_refused()
    {
        await using var fixture = await TransportFixture.StartAsync("tcp");
        await using var peer = await RawPeer.ConnectAsync(fixture.Address);

        await SendStreamFrameAsync(peer, FrameKind.StreamItem, 999, 0, Item(1));

        Assert.Contains("never made", await peer.ReadAbortReasonAsync(Timeout));
        Assert.Equal(2, await fixture.Client.GetService<IScenarioService>().AddAsync(1, 1).AsTask().WaitAsync(Timeout));
    }

    [Fact]
    public async Task A_stream_item_before_the_server_opened_the_stream_is_refused()
    {
        await using var fixture = await TransportFixture.StartAsync("tcp");
        await using var peer = await RawPeer.ConnectAsync(fixture.Address);

        // CountAsync has no request stream: an item "for" it is nonsense.
        var arguments = RawPeer.Pack((ref MessagePackWriter w) =>
        {
            w.WriteArrayHeader(2);
            w.Write(0);
            w.Write(1_000_000);
        });
        await peer.SendFrameAsync(FrameKind.Request, 1, CountMethod, StreamingServiceId, arguments);
        await SendStreamFrameAsync(peer, FrameKind.StreamItem, 1, 0, Item(1));

        Assert.Contains("before it was open", await peer.ReadAbortReasonAsync(Timeout));
    }

    /// <summary>Holds every call before the handler (and so before it asks for its request stream) until released.</summary>
    private sealed class Gate : RpcServerInterceptor
    {
        public TaskCompletionSource Released { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);

        public override async ValueTask InterceptAsync(RpcCallContext context, RpcServerContinuation next)
        {
            await Released.Task.WaitAsync(Timeout);
            await next(context);
        }
    }

    [Fact]
    public async Task An_empty_request_stream_whose_end_arrives_before_the_handler_asked_for_it_is_answered()
    {
        // Found by the message-streams fuzz harness's seed capture on a loaded machine: an empty
        // client stream sends its end without waiting for credit, so the end can arrive before the
        // handler has started on the thread pool and opened the stream; the server aborted the
        // connection ("ended request stream 5 before it was open"). The gate makes that order certain.
        var gate = new Gate();
        var options = new RpcServerOptions();
        options.Interceptors.Add(gate);
        await using var server = new RpcServer(options);
        server.AddService<IStreamingService>(new StreamingService());
        await server.StartAsync("tcp://127.0.0.1:0");
        await using var peer = await RawPeer.ConnectAsync(server.Addresses[0]);

        await peer.SendFrameAsync(FrameKind.Request, 1, SumMethod, StreamingServiceId, NoArguments);
        await SendStreamFrameAsync(peer, FrameKind.StreamEnd, 1, 0, []);
        await peer.SendFrameAsync(FrameKind.Ping, 7, 0, 0, []);
        var pong = (await peer.ReadFrameAsync().WaitAsync(Timeout))!.Value.Header;
        Assert.Equal(FrameKind.Pong, pong.Kind);
        gate.Released.SetResult();

        // The stream opens (its credit), then the sum of no numbers comes back; no abort.
        var kinds = new List<FrameKind>();
        while (kinds.LastOrDefault() is not (FrameKind.Response or FrameKind.Abort or FrameKind.Error))
        {
            var frame = await peer.ReadFrameAsync().WaitAsync(Timeout);
            Assert.True(frame is not null, $"The server closed the connection after {string.Join(", ", kinds)}.");
            kinds.Add(frame.Value.Header.Kind);
        }

        Assert.Equal(FrameKind.Response, kinds[^1]);
    }
}
