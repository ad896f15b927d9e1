using System.Net;
using System.Net.Sockets;
using Microsoft.Extensions.Time.Testing;
using RpcGen.Transport.Flow;
using RpcGen.Transport.Message.Tests;

namespace RpcGen.Transport.Flow.Tests;

/// <summary>
/// What a peer that connects and sends nothing, drips bytes, opens flows nobody accepts, never reads
/// or grants credit it never reads can make a flow server hold is bounded by the documented limits,
/// and a client that behaves keeps being served meanwhile (README, Limits and hostile input: the
/// defenses table). Every peer here is a real loopback socket; time limits run on a fake clock.
/// </summary>
public sealed class ConnectionDefenseTests
{
    private static readonly TimeSpan Timeout = FlowPair.Timeout;

    // ---- Connections that complete no setup -----------------------------------------------------

    [Fact]
    public async Task Connections_that_send_nothing_or_drip_the_setup_hold_at_most_MaxConnections_until_the_handshake_timeout_and_a_good_client_is_served()
    {
        var time = new FakeTimeProvider();
        using var logs = new CapturingLoggerProvider();
        await using var server = new FlowManager(new FlowManagerOptions
        {
            Name = "server",
            LinkLimits = new RpcLimits { MaxConnections = 8, MaxConnectionsPerAddress = 3 },
            Limits = FlowLimits.Default with { HandshakeTimeout = TimeSpan.FromSeconds(10) },
            Logger = logs.CreateLogger("flow"),
            TimeProvider = time,
        });
        var address = await server.ListenAsync("tcp://127.0.0.1:0");
        var endpoint = IPEndPoint.Parse(address["tcp://".Length..]);
        var setup = FlowFrames.BuildSetup(new FlowSetup(FlowFrames.Version, 64 * 1024, 256 * 1024, 1024 * 1024, 1024, "drip"));
        var attackers = new List<Socket>();
        try
        {
            // One address's quota: a peer that never sends a byte and two that drip part of a setup frame.
            for (var i = 0; i < 3; i++)
            {
                var attacker = await ConnectFromAsync("127.0.0.2", endpoint);
                attackers.Add(attacker);
                if (i > 0)
                {
                    await attacker.SendAsync(setup.AsMemory(0, i * 3));
                }
            }

            // The next one from that address is closed at once, and the server says why.
            await AssertRefusedAtOnceAsync("127.0.0.2", endpoint);

            Assert.Contains("MaxConnectionsPerAddress", await logs.WaitForAsync("refused a connection from tcp://127.0.0.2", Timeout), StringComparison.Ordinal);
            Assert.Equal(3, server.AdmittedConnections);

            // A client from another address is served while they hold their slots.
            await using var good = new FlowManager(new FlowManagerOptions { Name = "good" });
            await AssertServedAsync(server, good, address);

            // Filling the server: 8 in all, the good client's connection included.
            attackers.Add(await ConnectFromAsync("127.0.0.3", endpoint));
            attackers.Add(await ConnectFromAsync("127.0.0.3", endpoint));
            attackers.Add(await ConnectFromAsync("127.0.0.3", endpoint));
            attackers.Add(await ConnectFromAsync("127.0.0.4", endpoint));
            await AssertRefusedAtOnceAsync("127.0.0.5", endpoint);

            Assert.Contains("RpcLimits.MaxConnections)", await logs.WaitForAsync("refused a connection from tcp://127.0.0.5", Timeout), StringComparison.Ordinal);
            Assert.Equal(8, server.AdmittedConnections);

            // The good client's connection keeps serving while the server is full.
            await AssertServedAsync(server, good, address);

            // At the handshake timeout every attacker is closed and its slot given back.
            time.Advance(TimeSpan.FromSeconds(10));
            foreach (var attacker in attackers)
            {
                await AssertClosedByServerAsync(attacker);
            }

            await logs.WaitForCountAsync("failed: The flow setup with", attackers.Count, Timeout);
            Assert.Equal(1, server.AdmittedConnections);

            await using var late = new FlowManager(new FlowManagerOptions { Name = "late" });
            await AssertServedAsync(server, late, address);
        }
        finally
        {
            foreach (var attacker in attackers)
            {
                attacker.Dispose();
            }
        }
    }

    [Fact]
    public async Task A_connection_that_finishes_the_setup_and_opens_no_flow_is_closed_after_the_idle_timeout_and_gives_its_slot_back()
    {
        // Before the fix only dialed (cached) connections were closed when idle: a peer that
        // answered health checks and opened nothing kept an accepted connection, and its slot, for good.
        var time = new FakeTimeProvider();
        using var logs = new CapturingLoggerProvider();
        await using var server = new FlowManager(new FlowManagerOptions
        {
            Name = "server",
            LinkLimits = new RpcLimits { MaxConnections = 1 },
            Limits = FlowLimits.Default with { ChannelTimeout = System.Threading.Timeout.InfiniteTimeSpan },
            IdleTimeout = TimeSpan.FromMinutes(1),
            Logger = logs.CreateLogger("flow"),
            TimeProvider = time,
        });
        var address = await server.ListenAsync("tcp://127.0.0.1:0");
        await using var idler = await FlowConnection.ConnectAsync(await RpcGen.Links.RpcLinks.ConnectAsync(address).AsTask().WaitAsync(Timeout)).WaitAsync(Timeout);
        Assert.Equal(1, server.AdmittedConnections);

        // The client's setup can end before the server's: moving the clock earlier would time the
        // server's setup out (RpcLimits.HandshakeTimeout) instead of the idle connection.
        await logs.WaitForAsync("accepted a connection from", Timeout);

        // While it holds the only slot, the next client is turned away.
        await using (var turnedAway = new FlowManager(new FlowManagerOptions { Name = "turned-away" }))
        {
            await Assert.ThrowsAsync<FlowException>(() => turnedAway.DialAsync(address).WaitAsync(Timeout));
        }

        time.Advance(TimeSpan.FromMinutes(1));
        await idler.Completion.WaitAsync(Timeout);
        await logs.WaitForAsync("no flow for", Timeout);
        await logs.WaitForAsync("ended; 0 accepted connection(s) held", Timeout);

        await using var good = new FlowManager(new FlowManagerOptions { Name = "good" });
        await AssertServedAsync(server, good, address);
    }

    // ---- Dripping a frame ------------------------------------------------------------------------

    [Fact]
    public async Task A_peer_that_drips_a_frame_a_byte_at_a_time_is_closed_at_the_channel_timeout_and_another_connection_keeps_working()
    {
        // Before the fix every byte counted as a sign of life, so one byte per health-check period
        // kept a connection (and its partial frame, up to MaxFrameBytes) forever.
        var time = new FakeTimeProvider();
        var limits = FlowLimits.Default with { ChannelTimeout = TimeSpan.FromSeconds(30) };
        await using var raw = await RawPeer.StartAsync(new() { Limits = limits, TimeProvider = time });
        await using var good = await FlowPair.StartAsync();
        var frame = FlowFrames.Build(FlowFrameKind.Open, 1, new byte[100], FlowFrameFlags.Borrowed);
        for (var i = 0; i < 3; i++)
        {
            await raw.SendAsync(frame[i..(i + 1)]);
            time.Advance(TimeSpan.FromSeconds(10));
        }

        await raw.Victim.Completion.WaitAsync(Timeout);
        Assert.Contains("dead", raw.Victim.CloseReason!.Message, StringComparison.Ordinal);
        await AssertEchoAsync(good);
    }

    // ---- Flows nobody accepts ----------------------------------------------------------------------

    [Fact]
    public async Task Flows_opened_and_reset_while_nobody_accepts_queue_at_most_MaxFlows_and_later_ones_are_refused()
    {
        // Before the fix a flow the peer opened and reset left the connection's table but stayed in
        // the accept queue: a peer could grow that queue without end while the application was busy.
        const int Attempts = 200;
        var limits = FlowLimits.Default with { MaxFlows = 16 };
        await using var raw = await RawPeer.StartAsync(new() { Limits = limits });
        await using var good = await FlowPair.StartAsync();
        var frames = new List<byte>();
        for (uint id = 1; id < 2 * Attempts; id += 2)
        {
            frames.AddRange(FlowFrames.Build(FlowFrameKind.Open, id, "x"u8, FlowFrameFlags.Borrowed | FlowFrameFlags.MessageEnd));
            frames.AddRange(FlowFrames.Build(FlowFrameKind.Reset, id, "gone"u8));
        }

        await raw.SendAsync([.. frames]);
        var refused = 0;
        while (refused < Attempts - limits.MaxFlows)
        {
            var reset = await raw.ReceiveAsync(FlowFrameKind.Reset);
            Assert.NotNull(reset);
            if (System.Text.Encoding.UTF8.GetString(reset.Value.Payload).Contains("wait to be accepted", StringComparison.Ordinal))
            {
                refused++;
            }
        }

        Assert.Null(raw.Victim.CloseReason);
        Assert.Equal(limits.MaxFlows, raw.Victim.AwaitingAccept);
        await AssertEchoAsync(good);

        // Once the application accepts, new flows are taken again.
        for (var i = 0; i < limits.MaxFlows; i++)
        {
            await raw.Victim.AcceptFlowAsync().AsTask().WaitAsync(Timeout);
        }

        await raw.SendAsync(FlowFrames.Build(FlowFrameKind.Open, 2 * Attempts + 1, "y"u8, FlowFrameFlags.Borrowed | FlowFrameFlags.MessageEnd));
        var accepted = await raw.Victim.AcceptFlowAsync().AsTask().WaitAsync(Timeout);
        Assert.Equal("y"u8.ToArray(), await accepted.ReadMessageAsync().AsTask().WaitAsync(Timeout));
    }

    // ---- Peers that do not read ------------------------------------------------------------------

    [Theory]
    [InlineData(256 * 1024)] // the peer's windows stop the writers
    [InlineData(int.MaxValue)] // the peer grants about 2 GiB of credit per flow and never reads
    public async Task A_peer_that_never_reads_stops_the_writers_with_a_bounded_number_of_bytes_held_and_another_connection_keeps_working(int peerWindowBytes)
    {
        const int Flows = 4;
        var limits = FlowLimits.Default with { ChannelTimeout = System.Threading.Timeout.InfiniteTimeSpan };
        await using var raw = await RawPeer.StartAsync(new() { Limits = limits }, peerWindowBytes);
        await using var good = await FlowPair.StartAsync();
        var writers = new List<Task>();
        var blocked = new List<Task>();
        for (uint id = 1; id < 2 * Flows; id += 2)
        {
            await raw.SendAsync(FlowFrames.Build(FlowFrameKind.Open, id, "x"u8, FlowFrameFlags.Borrowed | FlowFrameFlags.MessageEnd));
            var flow = await raw.Victim.AcceptFlowAsync().AsTask().WaitAsync(Timeout);
            var stopped = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
            blocked.Add(stopped.Task);
            writers.Add(WriteUntilStoppedAsync(flow, stopped));
        }

        // 64 MiB per flow cannot fit in the socket buffers: every writer stops.
        await Task.WhenAll(blocked).WaitAsync(Timeout);
        await AssertEchoAsync(good);

        // What the flows' pipes hold: each flow's outbound pipe up to its pause threshold (the larger
        // of WindowBytes and the MTU) plus the chunk that crossed it, rounded to pool blocks, and the
        // peer's one-byte message per flow.
        var perFlow = Math.Max(limits.WindowBytes, limits.MtuBytes) + limits.MtuBytes + (2 * FlowMemoryPool.BlockSize);
        var held = (long)raw.Victim.Memory.BlocksInUse * FlowMemoryPool.BlockSize;
        Assert.InRange(held, 0, Flows * perFlow);
        Assert.All(writers, writer => Assert.False(writer.IsCompleted, "A writer finished 64 MiB to a peer that reads nothing."));
        Assert.False(raw.Victim.IsClosed);
    }

    private static async Task WriteUntilStoppedAsync(Flow flow, TaskCompletionSource stopped)
    {
        var chunk = new byte[64 * 1024];
        try
        {
            for (var i = 0; i < 1024; i++)
            {
                var write = flow.Output.WriteAsync(chunk);
                if (!write.IsCompleted)
                {
                    stopped.TrySetResult();
                }

                if ((await write).IsCompleted)
                {
                    return;
                }
            }
        }
        catch (FlowException)
        {
            // The connection ended when the test disposed it.
        }
    }

    // ---- A flood of tiny frames ------------------------------------------------------------------

    [Fact]
    public async Task A_flood_of_one_byte_frames_holds_no_more_than_the_window_and_every_byte_arrives_in_order()
    {
        var limits = FlowLimits.Default with { WindowBytes = 64 * 1024 };
        await using var raw = await RawPeer.StartAsync(new() { Limits = limits });
        var expected = FlowTestExtensions.Pattern(limits.WindowBytes);
        var frames = new byte[limits.WindowBytes * (FlowFrames.HeaderSize + 1)];
        for (var i = 0; i < expected.Length; i++)
        {
            FlowFrames.Build(FlowFrameKind.Data, 1, expected.AsSpan(i, 1)).CopyTo(frames, i * (FlowFrames.HeaderSize + 1));
        }

        // The first byte rides on the Open, borrowed; the rest waits for the flow's own window.
        await raw.SendAsync(FlowFrames.Build(FlowFrameKind.Open, 1, expected.AsSpan(0, 1), FlowFrameFlags.Borrowed));
        Assert.NotNull(await raw.ReceiveAsync(FlowFrameKind.Release));
        await raw.SendAsync(frames[(FlowFrames.HeaderSize + 1)..]);
        await raw.SendAsync(FlowFrames.Build(FlowFrameKind.Ping, 0, new byte[8]));
        var pong = await raw.ReceiveAsync(FlowFrameKind.Pong);
        Assert.True(pong is not null, raw.Victim.CloseReason?.Message); // every frame before the ping was handled

        // 65,536 frames of one byte each, unread: the pipe holds the bytes, not a block per frame.
        Assert.InRange(raw.Victim.Memory.BlocksInUse, 1, (limits.WindowBytes / FlowMemoryPool.BlockSize) + 1);
        var flow = await raw.Victim.AcceptFlowAsync().AsTask().WaitAsync(Timeout);
        var received = new MemoryStream();
        while (received.Length < expected.Length)
        {
            var result = await flow.Input.ReadAsync().AsTask().WaitAsync(Timeout);
            foreach (var segment in result.Buffer)
            {
                received.Write(segment.Span);
            }

            flow.Input.AdvanceTo(result.Buffer.End);
        }

        Assert.Equal(expected, received.ToArray());
        Assert.False(raw.Victim.IsClosed);
    }

    // ---- Helpers -------------------------------------------------------------------------------

    private static async Task<Socket> ConnectFromAsync(string localAddress, IPEndPoint server)
    {
        var socket = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
        socket.Bind(new IPEndPoint(IPAddress.Parse(localAddress), 0));
        await socket.ConnectAsync(server).WaitAsync(Timeout);
        return socket;
    }

    // A connection the server closes as soon as it accepts it: over loopback its reset can overtake
    // the connect's own completion here, and then the connect fails with the reset.
    private static async Task AssertRefusedAtOnceAsync(string localAddress, IPEndPoint server)
    {
        Socket extra;
        try
        {
            extra = await ConnectFromAsync(localAddress, server);
        }
        catch (SocketException ex) when (ex.SocketErrorCode == SocketError.ConnectionReset)
        {
            return;
        }

        using (extra)
        {
            await AssertClosedByServerAsync(extra);
        }
    }

    // Reads (the server's setup frame may come first) until the server closes or resets the socket.
    private static async Task AssertClosedByServerAsync(Socket socket)
    {
        var buffer = new byte[4096];
        try
        {
            while (await socket.ReceiveAsync(buffer.AsMemory()).AsTask().WaitAsync(Timeout) > 0)
            {
            }
        }
        catch (SocketException ex) when (ex.SocketErrorCode == SocketError.ConnectionReset)
        {
            // Closed with a reset: as closed as an end of stream.
        }
    }

    private static async Task AssertServedAsync(FlowManager server, FlowManager client, string address)
    {
        var flow = await client.DialAsync(address).WaitAsync(Timeout);
        await flow.WriteMessageAsync("ping"u8.ToArray());
        var accepted = await server.AcceptAsync().AsTask().WaitAsync(Timeout);
        Assert.Equal("ping"u8.ToArray(), await accepted.ReadMessageAsync().AsTask().WaitAsync(Timeout));
        await accepted.WriteMessageAsync("pong"u8.ToArray());
        Assert.Equal("pong"u8.ToArray(), await flow.ReadMessageAsync().AsTask().WaitAsync(Timeout));
    }

    private static async Task AssertEchoAsync(FlowPair pair)
    {
        var flow = pair.Dialer.OpenFlow();
        await flow.WriteMessageAsync("ping"u8.ToArray());
        var accepted = await pair.Acceptor.AcceptFlowAsync().AsTask().WaitAsync(Timeout);
        Assert.Equal("ping"u8.ToArray(), await accepted.ReadMessageAsync().AsTask().WaitAsync(Timeout));
        await accepted.WriteMessageAsync("pong"u8.ToArray());
        Assert.Equal("pong"u8.ToArray(), await flow.ReadMessageAsync().AsTask().WaitAsync(Timeout));
    }
}
