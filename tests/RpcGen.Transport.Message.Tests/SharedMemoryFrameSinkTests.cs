using MessagePack;

namespace RpcGen.Transport.Message.Tests;

/// <summary>
/// Over <c>shm:</c> the message protocol reads through the link's frame sink (no input pipe): frames
/// split across datagrams in every way, frames larger than a window, a hostile declared length, a
/// close in the middle of a frame, and a peer that does not take its answers (the sink pauses and
/// the link stops taking windows, then every answer comes once the peer reads). Raw peers drive the
/// real shared-memory link by hand; each send is one datagram (or several, beyond a window).
/// </summary>
public sealed class SharedMemoryFrameSinkTests
{
    private const ulong ScenarioServiceId = 0x5E57_0000_0000_0001;
    private const uint AddMethod = 2;
    private const uint BlobMethod = 9;
    private static readonly TimeSpan Timeout = TimeSpan.FromSeconds(30);

    [Fact]
    public async Task A_hello_and_a_request_sent_one_byte_per_datagram_are_read_and_answered()
    {
        await using var fixture = await TransportFixture.StartAsync("shm");
        await using var peer = await RawPeer.ConnectSharedMemoryAsync(fixture.Address, hello: false);

        foreach (var frame in new[] { RawPeer.HelloFrame(), RequestFrame(AddMethod, 7, RawPeer.AddRequest(19, 23)) })
        {
            foreach (var b in frame)
            {
                await peer.SendAsync([b]).WaitAsync(Timeout);
            }
        }

        Assert.Equal(FrameKind.Hello, (await peer.ReadFrameAsync().WaitAsync(Timeout))?.Header.Kind);
        var answer = (await peer.ReadCallFrameAsync().WaitAsync(Timeout))!.Value;
        Assert.Equal(FrameKind.Response, answer.Header.Kind);
        Assert.Equal(7u, answer.Header.CallId);
        Assert.Equal(42, new MessagePackReader(answer.Payload).ReadInt32());
    }

    [Fact]
    public async Task Frames_larger_than_a_window_and_frames_split_between_windows_arrive_whole_both_ways()
    {
        await using var fixture = await TransportFixture.StartAsync("shm");
        var service = fixture.Client.GetService<IScenarioService>();
        var random = new Random(15);

        // Three and a half windows (68 KiB each by default), a window and a bit, and many sizes sent
        // at once, which the window writer packs back to back and splits wherever a window ends.
        var sizes = new[] { 250_000, 70_000, 1 }.Concat(Enumerable.Range(0, 64).Select(_ => random.Next(1, 20_000))).ToArray();
        var shapes = sizes.Select(size => new Shape { Name = new string((char)('a' + (size % 26)), size) }).ToArray();
        var echoed = await Task.WhenAll(shapes.Select(shape => service.EchoAsync(shape))).WaitAsync(Timeout);

        Assert.Equal(shapes.Select(shape => shape.Name), echoed.Select(shape => shape.Name));
    }

    [Fact]
    public async Task A_frame_declaring_more_than_MaxFrameBytes_aborts_that_connection_and_the_server_goes_on()
    {
        var limits = new RpcLimits { MaxFrameBytes = 64 * 1024 };
        await using var fixture = await TransportFixture.StartAsync("shm", limits);
        await using var peer = await RawPeer.ConnectSharedMemoryAsync(fixture.Address);

        // Only the header: the declared length alone must end the connection, before any buffer grows for it.
        var header = new byte[FrameHeader.Size];
        new FrameHeader(FrameKind.Request, 0, limits.MaxFrameBytes + 1, 3, AddMethod, ScenarioServiceId, 0).Write(header);
        await peer.SendAsync(header).WaitAsync(Timeout);

        Assert.Contains("RpcLimits.MaxFrameBytes", await peer.ReadAbortReasonAsync(Timeout), StringComparison.Ordinal);
        Assert.Equal(9, await fixture.Client.GetService<IScenarioService>().AddAsync(4, 5).AsTask().WaitAsync(Timeout));
    }

    [Fact]
    public async Task A_peer_that_closes_in_the_middle_of_a_frame_ends_its_connection_and_the_server_goes_on()
    {
        await using var fixture = await TransportFixture.StartAsync("shm");
        var peer = await RawPeer.ConnectSharedMemoryAsync(fixture.Address);

        // A graceful close of the link right after part of a frame: the end of the stream follows it.
        var request = RequestFrame(AddMethod, 5, RawPeer.AddRequest(1, 2));
        await peer.SendAsync(request[..(request.Length - 3)]).WaitAsync(Timeout);
        await peer.DisposeAsync().AsTask().WaitAsync(Timeout);

        Assert.Contains($"({request.Length - 3} bytes of it arrived)", await fixture.Logs.WaitForAsync("closed in the middle of a frame", Timeout), StringComparison.Ordinal);
        await fixture.WaitUntilAsync(() => fixture.Server.ConnectionCount == 1, "the peer's connection to close");
        Assert.Equal(9, await fixture.Client.GetService<IScenarioService>().AddAsync(4, 5).AsTask().WaitAsync(Timeout));
    }

    [Fact]
    public async Task A_peer_that_does_not_take_its_answers_stops_the_reader_and_gets_every_answer_once_it_reads()
    {
        var limits = new RpcLimits { MaxPendingBytes = 256 * 1024 };
        await using var fixture = await TransportFixture.StartAsync("shm", limits);

        // The peer's own link buffers little, so once it stops reading the server's windows fill
        // and the server's answers queue up.
        await using var peer = await RawPeer.ConnectSharedMemoryAsync(fixture.Address, new RpcLimits { MaxPendingBytes = 64 * 1024 });
        await peer.SendAsync(Requests(1, 40)).WaitAsync(Timeout);
        await fixture.WaitUntilAsync(() => fixture.Server.PendingOutboundBytes >= limits.MaxPendingBytes, "the answers to fill the limit");

        // Requests that arrive now are held back (the reader stops after the first, the rest wait
        // in the link, which takes no window meanwhile; or calls already read wait to start) until
        // the peer reads. This send may not complete before then.
        var sending = peer.SendAsync(Requests(41, 80));
        await fixture.Logs.WaitForAsync(" stopped ", Timeout);
        Assert.Equal(9, await fixture.Client.GetService<IScenarioService>().AddAsync(4, 5).AsTask().WaitAsync(Timeout));

        var answered = new HashSet<uint>();
        while (answered.Count < 80)
        {
            var frame = (await peer.ReadCallFrameAsync().WaitAsync(Timeout))!.Value;
            Assert.Equal(FrameKind.Response, frame.Header.Kind);
            Assert.True(answered.Add(frame.Header.CallId), $"Call {frame.Header.CallId} was answered twice.");
        }

        await sending.WaitAsync(Timeout);
        Assert.Equal(Enumerable.Range(1, 80).Select(id => (uint)id), answered.Order());
    }

    [Fact]
    public async Task A_peer_that_calls_only_on_the_lane_and_takes_no_answers_stops_the_reader_as_on_the_ring()
    {
        var limits = new RpcLimits { MaxPendingBytes = 256 * 1024 };
        await using var fixture = await TransportFixture.StartAsync("shm", limits);
        await using var peer = await RawPeer.ConnectSharedMemoryAsync(fixture.Address, new RpcLimits { MaxPendingBytes = 64 * 1024 });

        // Each call as soon as the server took the last one from the lane, each asking for an
        // answer too large for the lane (so every answer goes on the ring, where this peer reads
        // them), and the peer reads none until the server stopped reading. More calls than the
        // server reads before it must stop in any case (256 calls waiting to start, or answers over
        // the limit), so the sender cannot be done by then. Before, a lane frame never stopped the
        // reader: it took every call, and queued 30 MB of answers against a 256 KiB limit.
        const int Calls = 300;
        var sending = Task.Run(async () =>
        {
            for (var id = 1u; id <= Calls; id++)
            {
                await SendOnLaneAsync(peer, RequestFrame(BlobMethod, id, OneArgument(100 * 1024)));
            }
        });

        await fixture.Logs.WaitForAsync(" stopped reading", Timeout);
        Assert.False(sending.IsCompleted, "The server took every call off the lane without stopping.");
        Assert.Equal(9, await fixture.Client.GetService<IScenarioService>().AddAsync(4, 5).AsTask().WaitAsync(Timeout));

        var answered = new HashSet<uint>();
        while (answered.Count < Calls)
        {
            var frame = (await peer.ReadCallFrameAsync().WaitAsync(Timeout))!.Value;
            Assert.Equal(FrameKind.Response, frame.Header.Kind);
            Assert.True(answered.Add(frame.Header.CallId), $"Call {frame.Header.CallId} was answered twice.");
        }

        await sending.WaitAsync(Timeout);
        Assert.Equal(Enumerable.Range(1, Calls).Select(id => (uint)id), answered.Order());
    }

    [Fact]
    public async Task A_peer_that_stops_taking_data_and_breaks_the_protocol_is_let_go_within_the_close_bound()
    {
        // A graceful close of the link hands the peer an end-of-stream datagram and waits for the
        // peer to take it, up to the handshake timeout. That wait used to block the closing thread,
        // so the connection's own bound on a close (a few seconds, then the link is cut) never
        // applied and a peer that broke the protocol and took nothing more was held (with a thread)
        // that long. Set far beyond the bounded wait below, so a close that waits fails this test
        // instead of passing late.
        var limits = new RpcLimits { HandshakeTimeout = TimeSpan.FromMinutes(10) };
        await using var fixture = await TransportFixture.StartAsync("shm", limits);

        // The peer's link buffers 64 KiB and the peer never reads: one 100 KiB answer fills that
        // buffer, so the peer's receiving thread stops taking windows, with windows still free on
        // the server's side for the Abort and the end of the stream.
        await using var peer = await RawPeer.ConnectSharedMemoryAsync(fixture.Address, new RpcLimits { MaxPendingBytes = 64 * 1024 });
        await peer.SendAsync(RequestFrame(BlobMethod, 1, OneArgument(100 * 1024))).WaitAsync(Timeout);
        await fixture.WaitUntilAsync(() => fixture.Server.InflightCalls == 0, "the answer to be sent");
        await peer.SendAsync("GET / HTTP/1.1\r\nHost: x\r\n\r\n"u8.ToArray()).WaitAsync(Timeout);

        // The server forgets the connection once its link is closed: only the fixture's client is left.
        // (The peer, had it read on, would find its stream cut inside the answer it never took.)
        await fixture.WaitUntilAsync(() => fixture.Server.ConnectionCount == 1, "the server to let the peer go");
        Assert.Equal(9, await fixture.Client.GetService<IScenarioService>().AddAsync(4, 5).AsTask().WaitAsync(Timeout));
    }

    /// <summary>Puts <paramref name="frame"/> on the lane once the server took the one before (bounded).</summary>
    private static async Task SendOnLaneAsync(RawPeer peer, byte[] frame)
    {
        using var timeout = new CancellationTokenSource(Timeout);
        while (!peer.TrySendOnLane(frame))
        {
            timeout.Token.ThrowIfCancellationRequested();
            await Task.Yield();
        }
    }

    private static byte[] Requests(uint first, uint last) =>
        [.. Enumerable.Range((int)first, (int)(last - first + 1)).SelectMany(id => RequestFrame(BlobMethod, (uint)id, OneArgument(64 * 1024)))];

    private static byte[] RequestFrame(uint method, uint callId, byte[] payload) =>
        FrameParserTests.Frame(new FrameHeader(FrameKind.Request, 0, payload.Length, callId, method, ScenarioServiceId, 0), payload);

    private static byte[] OneArgument(int value) => RawPeer.Pack((ref MessagePackWriter w) =>
    {
        w.WriteArrayHeader(1);
        w.Write(value);
    });
}
