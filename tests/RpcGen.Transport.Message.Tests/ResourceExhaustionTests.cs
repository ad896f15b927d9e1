using MessagePack;
using Microsoft.Extensions.Time.Testing;

namespace RpcGen.Transport.Message.Tests;

/// <summary>Tests that measure the process's heap run alone, so other tests' allocations do not blur them.</summary>
[CollectionDefinition(nameof(MeasuresMemory), DisableParallelization = true)]
public sealed class MeasuresMemory;

/// <summary>
/// What one misbehaving peer, or several, can make a server hold is bounded by the limits, every
/// connection ends closed with a log line whatever the peer sends, and a client that behaves keeps
/// being served. Each test drives a real server over TCP from a raw-socket peer.
/// </summary>
[Collection(nameof(MeasuresMemory))]
public class ResourceExhaustionTests
{
    private const ulong ScenarioServiceId = 0x5E57_0000_0000_0001;
    private const ulong StreamingServiceId = 0x5E57_0000_0000_0002;
    private const uint AddMethod = 2;
    private const uint NotifyMethod = 3;
    private const uint WaitUntilCancelledMethod = 4;
    private const uint RemainingMillisecondsMethod = 5;
    private const uint BlobMethod = 9;
    private const uint CountMethod = 1;
    private static readonly TimeSpan Timeout = TransportFixture.Timeout;

    private static byte[] OneArgument(int value) => RawPeer.Pack((ref MessagePackWriter w) =>
    {
        w.WriteArrayHeader(1);
        w.Write(value);
    });

    private static byte[] OneArgument(string value) => RawPeer.Pack((ref MessagePackWriter w) =>
    {
        w.WriteArrayHeader(1);
        w.Write(value);
    });

    private static byte[] Frame(FrameKind kind, uint callId, uint methodId, ulong serviceId, byte[] payload, long deadlineMicroseconds = 0) =>
        FrameParserTests.Frame(new FrameHeader(kind, 0, payload.Length, callId, methodId, serviceId, deadlineMicroseconds), payload);

    // ---- 1. Deadlines from the wire, and exceptions on the reader ---------------------------------

    [Theory]
    [InlineData(long.MaxValue)]
    [InlineData(50L * 24 * 3600 * 1_000_000)] // 50 days: past what a CancellationTokenSource timer takes
    [InlineData(8L * 24 * 3600 * 1_000_000)] // 8 days: past the default RpcLimits.MaxDeadline
    public async Task A_deadline_past_MaxDeadline_is_served_as_no_deadline_and_the_connection_goes_on(long deadlineMicroseconds)
    {
        await using var fixture = await TransportFixture.StartAsync("tcp");
        await using var peer = await RawPeer.ConnectAsync(fixture.Address);

        await peer.SendFrameAsync(FrameKind.Request, 1, RemainingMillisecondsMethod, ScenarioServiceId, [0xC0], deadlineMicroseconds);
        var answer = (await peer.ReadFrameAsync().WaitAsync(Timeout))!.Value;

        Assert.Equal(FrameKind.Response, answer.Header.Kind);
        Assert.Equal(new byte[] { 0xC0 }, answer.Payload); // no remaining time: served without a deadline
        await peer.SendFrameAsync(FrameKind.Request, 2, AddMethod, ScenarioServiceId, RawPeer.AddRequest(20, 22));
        var sum = (await peer.ReadFrameAsync().WaitAsync(Timeout))!.Value;
        Assert.Equal(FrameKind.Response, sum.Header.Kind);
        Assert.Equal(42, MessagePackSerializer.Deserialize<int>(sum.Payload));
    }

    [Fact]
    public async Task Hundreds_of_connections_sending_huge_deadlines_are_answered_and_all_end_closed()
    {
        // Before the fix each such frame killed its connection's reader silently and left the
        // socket in CLOSE-WAIT for good; ~1,100 of them exhausted 1,024 descriptors.
        const int Connections = 200;
        await using var fixture = await TransportFixture.StartAsync("tcp");

        for (var i = 0; i < Connections; i++)
        {
            await using var peer = await RawPeer.ConnectAsync(fixture.Address);
            await peer.SendAsync(Frame(FrameKind.Request, 1, RemainingMillisecondsMethod, ScenarioServiceId, [0xC0], long.MaxValue));
            peer.ShutdownSend();
            var frames = await peer.ReadUntilClosedAsync().WaitAsync(Timeout);
            Assert.Equal(FrameKind.Response, Assert.Single(frames).Header.Kind);
        }

        await fixture.Logs.WaitForCountAsync("was closed by the peer", Connections, Timeout);
        Assert.Equal(1, fixture.Server.ConnectionCount);
        Assert.Equal(7, await fixture.Client.GetService<IScenarioService>().AddAsync(3, 4).AsTask().WaitAsync(Timeout));
    }

    [Fact]
    public async Task Whatever_bytes_a_peer_sends_its_connection_ends_closed_and_the_server_goes_on()
    {
        // Frames of every kind with random flags, ids, deadlines and payloads: whatever the reader
        // makes of them (an answer, a refusal, an abort, an exception no check foresaw), once the
        // peer stops sending, the server closes its side. A connection left half-dead would make
        // ReadUntilClosedAsync time out.
        const int Peers = 250;
        await using var fixture = await TransportFixture.StartAsync("tcp", new RpcLimits { MaxFrameBytes = 4096 });
        var random = new Random(20261205);

        for (var i = 0; i < Peers; i++)
        {
            await using var peer = await RawPeer.ConnectAsync(fixture.Address);
            await peer.SendAsync(RandomFrames(random));
            peer.ShutdownSend();
            await peer.ReadUntilClosedAsync().WaitAsync(Timeout);
        }

        await fixture.Logs.WaitForCountAsync(" closed: ", Peers, Timeout);
        Assert.Equal(1, fixture.Server.ConnectionCount);
        Assert.Equal(7, await fixture.Client.GetService<IScenarioService>().AddAsync(3, 4).AsTask().WaitAsync(Timeout));
    }

    private static byte[] RandomFrames(Random random)
    {
        ulong[] services = [ScenarioServiceId, StreamingServiceId, 0, 1, ulong.MaxValue];
        long[] deadlines = [0, 1, -1, long.MaxValue, long.MinValue, 50L * 24 * 3600 * 1_000_000, random.NextInt64()];
        uint[] ids = [0, 1, 2, 3, uint.MaxValue];
        var bytes = new List<byte>();
        var count = random.Next(1, 4);
        for (var i = 0; i < count; i++)
        {
            var kind = (FrameKind)random.Next(1, 14);
            var flags = (byte)(random.Next(4) == 0 ? random.Next(256) : random.Next(2) * 0x80);
            var payload = new byte[random.Next(0, 48)];
            random.NextBytes(payload);
            if (random.Next(2) == 0 && payload.Length > 0)
            {
                payload[0] = (byte)(0x90 + random.Next(4)); // a small MessagePack array, so some calls decode
            }

            var header = new FrameHeader(kind, flags, payload.Length, ids[random.Next(ids.Length)], (uint)random.Next(0, 12), services[random.Next(services.Length)], deadlines[random.Next(deadlines.Length)]);
            bytes.AddRange(FrameParserTests.Frame(header, payload));
        }

        return [.. bytes];
    }

    // ---- 3 and 5. Peers that do not read ------------------------------------------------------------

    // What one answer to BlobAsync(64 KiB) holds: the frame outgrows 64 KiB, so it sits in a 128 KiB
    // buffer; 132 KiB covers that buffer and the frame object.
    private const int BlobAnswerHeldBytes = 132 * 1024;

    // What a small frame holds (a refusal or an error: a 512-byte buffer and the frame object).
    private const int SmallFrameHeldBytes = 1024;

    // What one connection can hold beyond the limit that stopped its reader, and why. Once over the
    // limit the reader stops before its next frame, so it adds at most the one frame it queued last;
    // calls handed to the thread pool that have not started yet are parked when their turn comes
    // (they wait, not started, until the peer reads); but every call that had already started still
    // queues its answer. Those calls are in flight until answered, so there are at most
    // MaxConcurrentCalls of them: that is the bound the server guarantees, whatever the thread pool's
    // size (a count of its threads taken afterwards is no bound: a loaded run held 27 answers
    // beyond the limit with 20 threads). The tests set MaxConcurrentCalls low (64) so the bound is
    // tight; not lower, because then so few answers exist at once that the kernel's socket buffers
    // (up to 4 MiB here) absorb them all and the limit never fills.
    private static long HeldBeyondTheLimit(RpcLimits limits, int answerHeldBytes) =>
        (limits.MaxConcurrentCalls * (long)answerHeldBytes) + SmallFrameHeldBytes;

    [Fact]
    public async Task A_client_that_never_reads_cannot_make_the_server_queue_past_the_limit()
    {
        // 2,000 calls for 64 KiB each and never a read: before the fix the server queued every
        // answer (about 256 MB held, each in a 128 KiB buffer); now it stops reading the connection
        // once MaxPendingBytes is held. Calls past MaxConcurrentCalls are refused (small errors).
        var limits = new RpcLimits { MaxPendingBytes = 256 * 1024, MaxConcurrentCalls = 64 };
        await using var fixture = await TransportFixture.StartAsync("tcp", limits);
        var before = GC.GetTotalMemory(forceFullCollection: true);
        await using var attacker = await RawPeer.ConnectAsync(fixture.Address, receiveBufferSize: 4096);

        var calls = new List<byte>();
        for (uint id = 1; id <= 2000; id++)
        {
            calls.AddRange(Frame(FrameKind.Request, id, BlobMethod, ScenarioServiceId, OneArgument(64 * 1024)));
        }

        await attacker.SendAsync([.. calls]).WaitAsync(Timeout);
        await fixture.Logs.WaitForAsync($"{attacker.LocalAddress} stopped", Timeout);
        var (held, heap) = await MeasureOnceFullAsync(fixture, limits.MaxPendingBytes, before);
        Assert.InRange(held, limits.MaxPendingBytes, limits.MaxPendingBytes + HeldBeyondTheLimit(limits, BlobAnswerHeldBytes));
        Assert.True(heap < 16 * 1024 * 1024, $"The server's heap grew by {heap:N0} bytes for a peer that does not read.");

        // Another client is served meanwhile.
        Assert.Equal(9, await fixture.Client.GetService<IScenarioService>().AddAsync(4, 5).AsTask().WaitAsync(Timeout));

        // When the attacker goes, so does everything held for it.
        await attacker.DisposeAsync();
        await fixture.WaitUntilAsync(() => fixture.Server.ConnectionCount == 1 && fixture.Server.PendingOutboundBytes == 0, attacker.LocalAddress);
    }

    [Fact]
    public async Task What_the_server_counts_as_queued_is_the_memory_it_holds()
    {
        // Tiny answers (an int each) sit in 512-byte buffers: counting payload bytes undercounted
        // what a connection held about fifteen times. The count now is the buffers' size.
        var limits = new RpcLimits { MaxPendingBytes = 1024 * 1024 };
        await using var fixture = await TransportFixture.StartAsync("tcp", limits);
        var before = GC.GetTotalMemory(forceFullCollection: true);
        await using var attacker = await RawPeer.ConnectAsync(fixture.Address, receiveBufferSize: 4096);

        // Sent in small chunks so the test itself holds little of it. The server stops reading
        // part-way through (after the kernel's buffers, the link's pipe and the limit have filled),
        // so this send never finishes; it is not awaited.
        var sending = Task.Run(async () =>
        {
            for (uint chunk = 0; chunk < 200; chunk++)
            {
                var calls = new List<byte>();
                for (uint id = 1; id <= 1000; id++)
                {
                    calls.AddRange(Frame(FrameKind.Request, (chunk * 1000) + id, AddMethod, ScenarioServiceId, RawPeer.AddRequest(1, 2)));
                }

                await attacker.SendAsync([.. calls]);
            }
        });
        await fixture.Logs.WaitForAsync($"{attacker.LocalAddress} stopped", Timeout);
        var (held, heap) = await MeasureOnceFullAsync(fixture, limits.MaxPendingBytes, before);
        // The reader stops once over the limit, but calls it already handed to the thread pool
        // still answer: at most MaxConcurrentCalls of them, 512 bytes each. On a busy machine many
        // of them are still queued when the reader stops, so that is the bound, not "a little".
        Assert.InRange(held, limits.MaxPendingBytes, limits.MaxPendingBytes + (limits.MaxConcurrentCalls * 512) + (64 * 1024));

        // What the server holds beyond the count: the link's outbound pipe (at most 1 MiB; a plain
        // socket's is left empty, its frames are sent from their own buffers) and the
        // unread requests in the inbound pipe (at most MaxPendingBytes); and what the runtime's
        // ArrayPool keeps per core and per thread once the pipes return their segments (measured
        // 0.2 to 0.7 MB). Not the server's: this test's own log capture. The connection logs each
        // time it stops (debug), and a loaded run stopped and resumed it often enough to keep
        // 19,031 lines (about 4.5 MB) where a quiet one keeps under ten; those lines are the
        // fixture's memory, so they are taken out of the heap's growth.
        var logs = fixture.Logs.HeapBytes;
        var uncounted = heap - held - logs;
        Assert.True(uncounted < 5 * 1024 * 1024, $"The server counts {held:N0} bytes queued but its heap grew by {heap:N0}, of which {logs:N0} are the test's {fixture.Logs.Entries.Count:N0} captured log lines (thread-pool threads: {ThreadPool.ThreadCount}, queued work items: {ThreadPool.PendingWorkItemCount}).");
        await attacker.DisposeAsync();
        try
        {
            await sending.WaitAsync(Timeout);
        }
        catch (Exception ex) when (ex is IOException or System.Net.Sockets.SocketException or ObjectDisposedException)
        {
            // The send was still blocked behind the server's backpressure when the socket closed.
        }
    }

    [Fact]
    public async Task Peers_that_never_read_cannot_add_up_past_the_server_limit_and_a_reading_client_keeps_going()
    {
        var limits = new RpcLimits
        {
            MaxPendingBytes = 1024 * 1024,
            MaxServerPendingBytes = 1024 * 1024,
            MinPendingBytesPerConnection = 64 * 1024,

            // Every call of the four attackers (200 each) is admitted. At 64, the calls that came
            // while 64 were running were refused with small errors, so each attacker had only a few
            // MiB of answers; kernel send buffers (up to 4 MiB per socket) could take all of them
            // once the send loops ran, and what the server held fell from over the limit to 0
            // between two reads (once in 13 loaded full runs).
            MaxConcurrentCalls = 200,
        };
        await using var fixture = await TransportFixture.StartAsync("tcp", limits);
        var attackers = new List<RawPeer>();
        try
        {
            for (var a = 0; a < 4; a++)
            {
                var attacker = await RawPeer.ConnectAsync(fixture.Address, receiveBufferSize: 4096);
                attackers.Add(attacker);
                var calls = new List<byte>();
                for (uint id = 1; id <= 200; id++)
                {
                    calls.AddRange(Frame(FrameKind.Request, id, BlobMethod, ScenarioServiceId, OneArgument(64 * 1024)));
                }

                await attacker.SendAsync([.. calls]).WaitAsync(Timeout);
                await fixture.Logs.WaitForAsync($"{attacker.LocalAddress} stopped", Timeout);
            }

            // Each non-reader stopped once over its share; together they hold about the server limit.
            await fixture.WaitUntilAsync(() => fixture.Server.PendingOutboundBytes >= limits.MaxServerPendingBytes, "the server limit to fill");
            var held = fixture.Server.PendingOutboundBytes;
            Assert.InRange(held, limits.MaxServerPendingBytes, limits.MaxServerPendingBytes + (4 * HeldBeyondTheLimit(limits, BlobAnswerHeldBytes)));

            // A client that reads its answers holds less than its guaranteed share and is never stopped.
            var service = fixture.Client.GetService<IScenarioService>();
            for (var i = 0; i < 50; i++)
            {
                Assert.Equal(i + 1, await service.AddAsync(i, 1).AsTask().WaitAsync(Timeout));
                Assert.Equal(1000, (await service.BlobAsync(1000).WaitAsync(Timeout)).Length);
            }
        }
        finally
        {
            foreach (var attacker in attackers)
            {
                await attacker.DisposeAsync();
            }
        }

        await fixture.WaitUntilAsync(() => fixture.Server.PendingOutboundBytes == 0, "every attacker");
    }

    [Fact]
    public async Task A_client_burst_larger_than_every_buffer_is_served_to_the_end()
    {
        // The server stops reading a client that does not take its answers; the client must keep
        // reading whatever it has queued, or both ends would stop at once and never resume.
        var limits = new RpcLimits { MaxPendingBytes = 256 * 1024 };
        await using var fixture = await TransportFixture.StartAsync("tcp", limits);
        var client = await fixture.ConnectAsync(new RpcClientOptions { Limits = limits });
        var service = client.GetService<IScenarioService>();
        var large = new Shape { Name = new string('x', 64 * 1024) };

        var calls = Enumerable.Range(0, 512).Select(_ => service.EchoAsync(large)).ToArray();
        var echoed = await Task.WhenAll(calls).WaitAsync(Timeout);

        Assert.All(echoed, shape => Assert.Equal(large.Name.Length, shape.Name.Length));
    }

    // ---- 6. Frame kind against method kind ---------------------------------------------------------

    [Fact]
    public async Task A_one_way_frame_cannot_run_a_two_way_or_streaming_method_and_a_request_cannot_run_a_one_way_one()
    {
        await using var fixture = await TransportFixture.StartAsync("tcp");
        await using var peer = await RawPeer.ConnectAsync(fixture.Address);

        await peer.SendFrameAsync(FrameKind.OneWay, 0, WaitUntilCancelledMethod, ScenarioServiceId, OneArgument("one-way abuse"));
        await peer.SendFrameAsync(FrameKind.OneWay, 0, CountMethod, StreamingServiceId, RawPeer.AddRequest(0, 10));
        await peer.SendFrameAsync(FrameKind.Request, 7, NotifyMethod, ScenarioServiceId, OneArgument("two-way abuse"));
        await peer.SendFrameAsync(FrameKind.Request, 8, AddMethod, ScenarioServiceId, RawPeer.AddRequest(1, 2));

        // The one-way frames get no answer (there is nobody to give it to) and run nothing; the
        // request to a one-way method is refused; the connection goes on.
        var refused = (await peer.ReadFrameAsync().WaitAsync(Timeout))!.Value;
        Assert.Equal((FrameKind.Error, 7u), (refused.Header.Kind, refused.Header.CallId));
        Assert.Equal((int)RpcStatusCode.Unimplemented, RawPeer.ReadError(refused.Payload).Code);
        Assert.Contains("is one-way", RawPeer.ReadError(refused.Payload).Message);
        var answer = (await peer.ReadFrameAsync().WaitAsync(Timeout))!.Value;
        Assert.Equal((FrameKind.Response, 8u), (answer.Header.Kind, answer.Header.CallId));

        await fixture.Logs.WaitForAsync("is a Unary method; a one-way frame cannot call it", Timeout);
        await fixture.Logs.WaitForAsync("is a ServerStreaming method; a one-way frame cannot call it", Timeout);
        Assert.False(fixture.Service.Started("one-way abuse").IsCompleted);
    }

    [Fact]
    public async Task A_peer_that_keeps_sending_mismatched_frames_is_aborted()
    {
        await using var fixture = await TransportFixture.StartAsync("tcp");
        await using var peer = await RawPeer.ConnectAsync(fixture.Address);

        var frames = new List<byte>();
        for (var i = 0; i < 17; i++)
        {
            frames.AddRange(Frame(FrameKind.OneWay, 0, WaitUntilCancelledMethod, ScenarioServiceId, OneArgument($"abuse {i}")));
        }

        await peer.SendAsync([.. frames]);
        var received = await peer.ReadUntilClosedAsync().WaitAsync(Timeout);

        var abort = Assert.Single(received);
        Assert.Equal(FrameKind.Abort, abort.Header.Kind);
        Assert.Contains("more than 16 calls whose frame kind does not match", RawPeer.ReadError(abort.Payload).Message);
        Assert.Equal(7, await fixture.Client.GetService<IScenarioService>().AddAsync(3, 4).AsTask().WaitAsync(Timeout));
    }

    // ---- 7. Connection caps and time limits ---------------------------------------------------------

    [Fact]
    public async Task Connections_over_the_server_limit_are_told_why_and_closed_and_a_freed_slot_is_reused()
    {
        await using var fixture = await TransportFixture.StartAsync("tcp", new RpcLimits { MaxConnections = 3 });
        await using var first = await ConnectedPeerAsync(fixture);
        await using var second = await ConnectedPeerAsync(fixture);

        await using (var refused = await RawPeer.ConnectAsync(fixture.Address, hello: false))
        {
            var refusedAddress = refused.LocalAddress;
            var frames = await refused.ReadUntilClosedAsync().WaitAsync(Timeout);
            var (code, message) = RawPeer.ReadError(Assert.Single(frames).Payload);
            Assert.Equal((int)RpcStatusCode.Overloaded, code);
            Assert.Contains("RpcLimits.MaxConnections", message);
            await fixture.Logs.WaitForAsync($"Connection from {refusedAddress} refused", Timeout);
        }

        var firstAddress = first.LocalAddress;
        await first.DisposeAsync();
        await fixture.Logs.WaitForAsync($"with {firstAddress} closed", Timeout);
        await using var third = await ConnectedPeerAsync(fixture);
    }

    [Fact]
    public async Task Connections_over_the_per_address_limit_are_refused_while_other_addresses_are_served()
    {
        await using var fixture = await TransportFixture.StartAsync("tcp", new RpcLimits { MaxConnectionsPerAddress = 2 });
        await using var second = await ConnectedPeerAsync(fixture);

        await using var refused = await RawPeer.ConnectAsync(fixture.Address, hello: false);
        var frames = await refused.ReadUntilClosedAsync().WaitAsync(Timeout);
        Assert.Contains("connections from 127.0.0.1 (RpcLimits.MaxConnectionsPerAddress)", RawPeer.ReadError(Assert.Single(frames).Payload).Message);

        await using var elsewhere = await ConnectedPeerAsync(fixture, localIp: "127.0.0.2");
    }

    [Fact]
    public async Task A_connection_that_sends_nothing_is_closed_after_the_handshake_timeout()
    {
        var time = new FakeTimeProvider();
        await using var fixture = await TransportFixture.StartAsync("tcp", timeProvider: time);
        var client = fixture.Client.GetService<IScenarioService>();
        Assert.Equal(3, await client.AddAsync(1, 2).AsTask().WaitAsync(Timeout)); // its hello has arrived
        await using var silent = await RawPeer.ConnectAsync(fixture.Address, hello: false);
        await fixture.Logs.WaitForAsync($"opened with {silent.LocalAddress}", Timeout);

        time.Advance(RpcLimits.Default.HandshakeTimeout - TimeSpan.FromSeconds(1));
        Assert.Equal(3, await client.AddAsync(1, 2).AsTask().WaitAsync(Timeout));
        time.Advance(TimeSpan.FromSeconds(2));

        var frames = await silent.ReadUntilClosedAsync().WaitAsync(Timeout);
        Assert.Contains("RpcLimits.HandshakeTimeout", RawPeer.ReadError(Assert.Single(frames).Payload).Message);
        await fixture.Logs.WaitForAsync($"with {silent.LocalAddress} closed: No complete frame arrived", Timeout);
        Assert.Equal(7, await client.AddAsync(3, 4).AsTask().WaitAsync(Timeout));
    }

    [Fact]
    public async Task A_peer_that_drips_a_frame_is_closed_after_the_frame_timeout()
    {
        var time = new FakeTimeProvider();
        await using var fixture = await TransportFixture.StartAsync("tcp", timeProvider: time);
        await using var dripper = await RawPeer.ConnectAsync(fixture.Address);

        // A ping, then the first 20 bytes of a 1 KiB request, in one write: once the Pong is back,
        // the server has read the partial frame too and started its clock.
        var ping = FrameParserTests.Frame(new FrameHeader(FrameKind.Ping, 0, 0, 5, 0, 0, 0), []);
        var partial = Frame(FrameKind.Request, 1, AddMethod, ScenarioServiceId, new byte[1024])[..20];
        await dripper.SendAsync([.. ping, .. partial]);
        Assert.Equal(FrameKind.Pong, (await dripper.ReadFrameAsync().WaitAsync(Timeout))!.Value.Header.Kind);

        var allowed = RpcLimits.Default.FrameTimeout + TimeSpan.FromSeconds((FrameHeader.Size + 1024.0) / RpcLimits.Default.MinFrameBytesPerSecond);
        time.Advance(allowed - TimeSpan.FromSeconds(1));
        await dripper.SendAsync([partial[20 - 1]]); // one more byte does not reset the frame's clock
        time.Advance(TimeSpan.FromSeconds(2));

        var frames = await dripper.ReadUntilClosedAsync().WaitAsync(Timeout);
        var message = RawPeer.ReadError(Assert.Single(frames).Payload).Message;
        Assert.Contains("A frame of 1056 bytes was not completed", message);
        Assert.Contains("RpcLimits.FrameTimeout", message);
    }

    [Fact]
    public async Task An_idle_connection_is_closed_after_the_idle_timeout_but_one_with_a_call_in_flight_is_not()
    {
        var time = new FakeTimeProvider();
        await using var fixture = await TransportFixture.StartAsync("tcp", timeProvider: time);
        var idle = fixture.Client.GetService<IScenarioService>();
        Assert.Equal(3, await idle.AddAsync(1, 2).AsTask().WaitAsync(Timeout));
        var busyClient = await fixture.ConnectAsync();
        var busy = busyClient.GetService<IScenarioService>();
        using var stop = new CancellationTokenSource();
        var longCall = busy.WaitUntilCancelledAsync("busy through the idle timeout", stop.Token);
        await fixture.Service.Started("busy through the idle timeout").WaitAsync(Timeout);

        // The idle client has its answer, but the server may not yet have counted that call as
        // finished; a connection still counted busy when the clock moves would restart its idle clock.
        await fixture.WaitUntilAsync(() => fixture.Server.InflightCalls == 1, "the server to count only the busy call in flight");
        time.Advance(RpcLimits.Default.IdleTimeout + TimeSpan.FromSeconds(2));

        await fixture.Client.Completion.WaitAsync(Timeout);
        Assert.Contains("RpcLimits.IdleTimeout", fixture.Client.CloseReason!.Message);
        Assert.Equal(9, await busy.AddAsync(4, 5).AsTask().WaitAsync(Timeout));
        Assert.False(busyClient.Completion.IsCompleted);
        stop.Cancel();
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => longCall.WaitAsync(Timeout));
    }

    // ---- All at once --------------------------------------------------------------------------------

    [Fact]
    public async Task A_reading_client_completes_every_call_while_every_kind_of_misbehaving_peer_is_connected()
    {
        var limits = new RpcLimits
        {
            MaxPendingBytes = 256 * 1024,
            MaxServerPendingBytes = 512 * 1024,
            MaxFrameBytes = 256 * 1024,
            MaxConcurrentCalls = 64,
        };
        await using var fixture = await TransportFixture.StartAsync("tcp", limits);
        var peers = new List<RawPeer>();
        using var stop = new CancellationTokenSource();
        var drips = new List<Task>();
        try
        {
            // Three peers that call and never read.
            for (var a = 0; a < 3; a++)
            {
                var attacker = await RawPeer.ConnectAsync(fixture.Address, receiveBufferSize: 4096);
                peers.Add(attacker);
                var calls = new List<byte>();
                for (uint id = 1; id <= 100; id++)
                {
                    calls.AddRange(Frame(FrameKind.Request, id, BlobMethod, ScenarioServiceId, OneArgument(64 * 1024)));
                }

                await attacker.SendAsync([.. calls]).WaitAsync(Timeout);
            }

            // Twenty peers dripping a large frame a byte at a time, and fifty that say nothing.
            for (var d = 0; d < 20; d++)
            {
                var dripper = await RawPeer.ConnectAsync(fixture.Address);
                peers.Add(dripper);
                drips.Add(DripAsync(dripper, Frame(FrameKind.Request, 1, AddMethod, ScenarioServiceId, new byte[200 * 1024]), stop.Token));
            }

            for (var s = 0; s < 50; s++)
            {
                peers.Add(await RawPeer.ConnectAsync(fixture.Address));
            }

            // Peers sending deadlines no timer takes, and one breaking the frame-kind rule.
            for (var b = 0; b < 10; b++)
            {
                var bomber = await RawPeer.ConnectAsync(fixture.Address);
                peers.Add(bomber);
                await bomber.SendAsync(Frame(FrameKind.Request, 1, RemainingMillisecondsMethod, ScenarioServiceId, [0xC0], long.MaxValue));
            }

            var offender = await RawPeer.ConnectAsync(fixture.Address);
            peers.Add(offender);
            var offences = new List<byte>();
            for (var i = 0; i < 20; i++)
            {
                offences.AddRange(Frame(FrameKind.OneWay, 0, WaitUntilCancelledMethod, ScenarioServiceId, OneArgument("offence")));
            }

            await offender.SendAsync([.. offences]);

            // The client that behaves: every one of its calls completes while all of that goes on.
            var service = fixture.Client.GetService<IScenarioService>();
            var completed = 0;
            for (var i = 0; i < 300; i++)
            {
                Assert.Equal(i + 2, await service.AddAsync(i, 2).AsTask().WaitAsync(Timeout));
                completed++;
            }

            Assert.Equal(300, completed);
            Assert.All(drips, drip => Assert.False(drip.IsFaulted, drip.Exception?.ToString()));
            Assert.InRange(fixture.Server.PendingOutboundBytes, 0, limits.MaxServerPendingBytes + (3 * HeldBeyondTheLimit(limits, BlobAnswerHeldBytes)));
        }
        finally
        {
            stop.Cancel();
            await Task.WhenAll(drips.Select(d => d.ContinueWith(_ => { }, TaskScheduler.Default)));
            foreach (var peer in peers)
            {
                await peer.DisposeAsync();
            }
        }

        await fixture.WaitUntilAsync(() => fixture.Server.ConnectionCount == 1 && fixture.Server.PendingOutboundBytes == 0, "every misbehaving peer");
    }

    private static async Task DripAsync(RawPeer peer, byte[] frame, CancellationToken stop)
    {
        for (var i = 0; i < frame.Length - 1 && !stop.IsCancellationRequested; i++)
        {
            await peer.SendAsync([frame[i]]);
            await Task.Yield();
        }
    }

    /// <summary>Connects a raw peer (hellos exchanged) and proves the server admitted it (a Ping answered).</summary>
    private static async Task<RawPeer> ConnectedPeerAsync(TransportFixture fixture, string? localIp = null)
    {
        var peer = await RawPeer.ConnectAsync(fixture.Address, localIp);
        await peer.SendAsync(FrameParserTests.Frame(new FrameHeader(FrameKind.Ping, 0, 0, 9, 0, 0, 0), []));
        var pong = (await peer.ReadFrameAsync().WaitAsync(Timeout))!.Value;
        Assert.Equal((FrameKind.Pong, 9u), (pong.Header.Kind, pong.Header.CallId));
        return peer;
    }

    /// <summary>Waits for a condition the server reaches after a connection's close is logged; fails with what was last seen.</summary>
    /// <summary>
    /// Measures what the server counts as queued and how much its heap grew, at a moment when the
    /// count is at least <paramref name="limit"/>. Until the peer's socket buffers and the link's pipe
    /// are full, a flush can still empty the count for a moment right after it crossed the limit, so
    /// the measurement is taken again until the count (read after the collection) still holds.
    /// </summary>
    private static async Task<(long Held, long Heap)> MeasureOnceFullAsync(TransportFixture fixture, long limit, long before)
    {
        using var deadline = new CancellationTokenSource(Timeout);
        while (true)
        {
            await fixture.WaitUntilAsync(() => fixture.Server.PendingOutboundBytes >= limit, "the limit to fill");
            var heap = GC.GetTotalMemory(forceFullCollection: true) - before;
            var held = fixture.Server.PendingOutboundBytes;
            if (held >= limit || deadline.IsCancellationRequested)
            {
                return (held, heap);
            }
        }
    }
}
