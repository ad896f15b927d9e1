using System.Buffers.Binary;
using Microsoft.Extensions.Time.Testing;
using RpcGen.Links;
using static RpcGen.Capnp.Tests.Rpc.TestProtocol;

namespace RpcGen.Capnp.Tests.Rpc;

/// <summary>
/// What a hostile client can make a <see cref="CapnpServer"/> hold, driven from raw sockets over
/// loopback: outbound bytes behind a client that does not read, connections, and time (a client
/// that says nothing, drips a message, or idles). Time limits run on a fake clock; every wait is a
/// signal with a bounded timeout.
/// </summary>
public sealed class ServerLimitsTests
{
    private static readonly TimeSpan Timeout = TimeSpan.FromSeconds(15);

    // ===== Outbound bytes =====

    [Fact]
    public Task A_client_that_calls_without_reading_stops_being_read_and_the_server_holds_a_bounded_amount()
    {
        // Echo calls with 2 KiB of text each (the answer holds a 4 KiB array), 64 MiB of them in all:
        // about 128 MiB of answers if the server kept reading. Finish trails by 64 calls, so the
        // answers are sent with their results rather than as cancellations.
        var text = new string('x', 2048);
        return FloodWithoutReadingAsync(32 * 1024, question => question > 64
            ? [EchoFrame(question, text), RawPeer.FinishFrame(question - 64)]
            : [EchoFrame(question, text)]);
    }

    [Fact]
    public Task A_client_that_bootstraps_without_reading_is_bounded_too() =>
        FloodWithoutReadingAsync(2_000_000, question => [RawPeer.BootstrapFrame(question), RawPeer.FinishFrame(question)]);

    /// <summary>
    /// A client sends <paramref name="messagesFor"/> each question up to <paramref name="questions"/>
    /// (far more than the kernel's buffers hold) and never reads: the server must stop reading it,
    /// hold a bounded amount, serve another client meanwhile, and give everything back when it goes.
    /// </summary>
    private static async Task FloodWithoutReadingAsync(uint questions, Func<uint, byte[][]> messagesFor)
    {
        var limits = new RpcLimits { MaxPendingBytes = 64 * 1024 };
        var service = new TestServiceServer();
        using var bootstrap = Capability.FromServer(service);
        await using var server = CapnpServer.Listen("tcp://127.0.0.1:0", bootstrap, new CapnpConnectionOptions { Limits = limits });
        using var flooder = await RawSocketClient.ConnectAsync(server.Address, receiveBufferBytes: 4096);
        await flooder.BootstrapAsync();
        var connection = server.Connections.Single();
        var before = GC.GetTotalMemory(forceFullCollection: true);
        using var stop = new CancellationTokenSource();
        var flood = Task.Run(async () =>
        {
            var batch = new List<byte>();
            for (uint question = 1; question <= questions; question++)
            {
                foreach (var message in messagesFor(question))
                {
                    batch.AddRange(message);
                }

                if (batch.Count >= 64 * 1024)
                {
                    await flooder.SendAsync([.. batch], stop.Token);
                    batch.Clear();
                }
            }
        });

        await connection.FirstReaderPause.WaitAsync(Timeout);

        // While it stays paused, another client is served as usual.
        await using var good = await CapnpConnection.ConnectAsync(server.Address);
        using var goodService = good.Bootstrap();
        var maxHeld = connection.PendingOutboundBytes;
        for (var i = 0; i < 20; i++)
        {
            Assert.Equal("still served", await EchoAsync(goodService, "still served").WaitAsync(Timeout));
            maxHeld = Math.Max(maxHeld, connection.PendingOutboundBytes);
        }

        var grown = GC.GetTotalMemory(forceFullCollection: true) - before;
        maxHeld = Math.Max(maxHeld, connection.PendingOutboundBytes);
        Assert.False(flood.IsCompleted, "The flood should be stuck: the server stopped reading it.");
        Assert.Null(connection.DisconnectReason?.Message);

        // Bounded by the limit plus one batch of input's answers, not by what the client sent. How much
        // of the flood the server read before its reader paused is not bounded here beyond "not all
        // of it" (the flood is stuck, above): it depends on the kernel's buffers and on how far the
        // handlers lag the reader on a busy machine (a call whose Finish arrives before its handler
        // ran is answered by a small cancellation, not its 4 KiB result, so more requests fit).
        TestContext.Current.TestOutputHelper?.WriteLine($"held at most {maxHeld} bytes; heap grew {grown} bytes; read {connection.BytesSeen} bytes");
        Assert.InRange(maxHeld, 0, 2 * 1024 * 1024);
        Assert.InRange(server.PendingOutboundBytes, 0, 2 * 1024 * 1024);
        Assert.True(grown < 24 * 1024 * 1024, $"The server's heap grew by {grown} bytes behind a client that does not read.");

        // The client goes away: the connection ends and gives back everything it held.
        flooder.Dispose();
        await stop.CancelAsync();
        await Assert.ThrowsAnyAsync<Exception>(() => flood.WaitAsync(Timeout));
        await connection.Closed.WaitAsync(Timeout);
        Assert.Equal(0, connection.PendingOutboundBytes);
        Assert.Equal("still served", await EchoAsync(goodService, "still served").WaitAsync(Timeout));
    }

    [Fact]
    public async Task A_client_that_sends_a_burst_larger_than_every_buffer_is_served_to_the_end()
    {
        // 64 MiB of echo calls sent at once, so 64 MiB of answers: more than the limits and the
        // kernel's buffers hold either way. The server stops reading while the client has not taken
        // its answers; the client must go on reading them, or each side waits for the other.
        var limits = new RpcLimits { MaxPendingBytes = 64 * 1024 };
        var service = new TestServiceServer();
        using var bootstrap = Capability.FromServer(service);
        await using var server = CapnpServer.Listen("tcp://127.0.0.1:0", bootstrap, new CapnpConnectionOptions { Limits = limits });
        await using var client = await CapnpConnection.ConnectAsync(server.Address, new CapnpConnectionOptions { Limits = limits });
        using var echo = client.Bootstrap();
        var text = new string('x', 64 * 1024);
        var calls = Enumerable.Range(0, 1024).Select(_ => Echo(echo, text)).ToList();
        foreach (var call in calls)
        {
            using (call)
            {
                using var response = await call.Response.WaitAsync(Timeout);
                Assert.Equal(text.Length, response.Results.ReadText(TextParams.Field("text"))!.Length);
            }
        }
    }

    // ===== Connections =====

    [Fact]
    public async Task The_connection_over_the_cap_is_told_why_and_closed_and_one_is_admitted_after_another_closes()
    {
        var limits = new RpcLimits { MaxConnections = 3 };
        var service = new TestServiceServer();
        using var bootstrap = Capability.FromServer(service);
        await using var server = CapnpServer.Listen("tcp://127.0.0.1:0", bootstrap, new CapnpConnectionOptions { Limits = limits });
        var admitted = new List<RawSocketClient>();
        for (var i = 0; i < 3; i++)
        {
            var client = await RawSocketClient.ConnectAsync(server.Address);
            await client.BootstrapAsync();
            admitted.Add(client);
        }

        using (var refused = await RawSocketClient.ConnectAsync(server.Address))
        {
            var reason = await refused.ExpectClosedAsync().WaitAsync(Timeout);
            Assert.Contains("MaxConnections", reason);
        }

        admitted[0].Dispose();
        await EventuallyAsync(() => Task.FromResult(server.ConnectionCount), count => count == 2, Timeout);

        using var next = await RawSocketClient.ConnectAsync(server.Address);
        await next.BootstrapAsync().WaitAsync(Timeout);
        Assert.Equal(3, server.ConnectionCount);
        foreach (var client in admitted)
        {
            client.Dispose();
        }
    }

    [Fact]
    public async Task The_connection_over_the_per_address_cap_is_refused()
    {
        var limits = new RpcLimits { MaxConnectionsPerAddress = 1 };
        var service = new TestServiceServer();
        using var bootstrap = Capability.FromServer(service);
        await using var server = CapnpServer.Listen("tcp://127.0.0.1:0", bootstrap, new CapnpConnectionOptions { Limits = limits });
        using var first = await RawSocketClient.ConnectAsync(server.Address);
        await first.BootstrapAsync();
        using var second = await RawSocketClient.ConnectAsync(server.Address);
        Assert.Contains("MaxConnectionsPerAddress", await second.ExpectClosedAsync().WaitAsync(Timeout));
    }

    private static byte[] EchoFrame(uint questionId, string text) =>
        RawPeer.CallFrame(questionId, 0, ServiceId, Methods.Echo, p => p.InitStruct((ushort)TextParams.DataWords, (ushort)TextParams.PointerCount).WriteText(TextParams.Field("text"), text));

    // ===== Time =====

    private sealed class TimedServer : IAsyncDisposable
    {
        public TimedServer(RpcLimits limits)
        {
            Service = new TestServiceServer();
            using var bootstrap = Capability.FromServer(Service);
            Server = CapnpServer.Listen("tcp://127.0.0.1:0", bootstrap, new CapnpConnectionOptions { Limits = limits, TimeProvider = Clock });
        }

        public FakeTimeProvider Clock { get; } = new();

        public TestServiceServer Service { get; }

        public CapnpServer Server { get; }

        /// <summary>The server's side of the only connection, once the server has registered it.</summary>
        public async Task<CapnpConnection> OnlyConnectionAsync() =>
            (await EventuallyAsync(() => Task.FromResult(Server.Connections), c => c.Count == 1, Timeout)).Single();

        /// <summary>
        /// Waits until the server's reader has handled <paramref name="sent"/> bytes: it records what
        /// it saw (and the time it saw it) after handling, so the fake clock must not move before.
        /// </summary>
        public static Task WaitUntilSeenAsync(CapnpConnection connection, long sent) =>
            EventuallyAsync(() => Task.FromResult(connection.BytesSeen), seen => seen >= sent, Timeout);

        /// <summary>Moves the clock to just short of <paramref name="limit"/> (the connection stays), then past it; returns the reason the client was told.</summary>
        public async Task<string?> CrossAsync(TimeSpan limit, CapnpConnection connection, RawSocketClient client)
        {
            // The watchdog runs inside Advance: once it returns, the connection has been judged.
            Clock.Advance(limit - TimeSpan.FromSeconds(1));
            Assert.Null(connection.DisconnectReason);
            Clock.Advance(TimeSpan.FromSeconds(2));
            return await client.ExpectClosedAsync().WaitAsync(Timeout);
        }

        public ValueTask DisposeAsync() => Server.DisposeAsync();
    }

    [Fact]
    public async Task A_client_that_sends_nothing_is_closed_by_the_handshake_timeout()
    {
        await using var timed = new TimedServer(new RpcLimits { HandshakeTimeout = TimeSpan.FromSeconds(10), IdleTimeout = System.Threading.Timeout.InfiniteTimeSpan });
        using var silent = await RawSocketClient.ConnectAsync(timed.Server.Address);
        var connection = await timed.OnlyConnectionAsync();

        Assert.Contains("HandshakeTimeout", await timed.CrossAsync(TimeSpan.FromSeconds(10), connection, silent));
        await connection.Closed.WaitAsync(Timeout);
    }

    [Fact]
    public async Task A_client_that_drips_a_message_is_closed_by_the_frame_timeout()
    {
        await using var timed = new TimedServer(new RpcLimits { FrameTimeout = TimeSpan.FromSeconds(30), IdleTimeout = System.Threading.Timeout.InfiniteTimeSpan });
        using var dripper = await RawSocketClient.ConnectAsync(timed.Server.Address);
        await dripper.BootstrapAsync();
        var connection = await timed.OnlyConnectionAsync();

        // One segment of 1024 words declared; 100 bytes of it sent.
        var partial = new byte[8 + 100];
        BinaryPrimitives.WriteUInt32LittleEndian(partial.AsSpan(4), 1024);
        await dripper.SendAsync(partial);
        await TimedServer.WaitUntilSeenAsync(connection, RawPeer.BootstrapFrame(0).Length + partial.Length);

        // 30 s, plus 1024 * 8 bytes at 64 KiB/s.
        Assert.Contains("FrameTimeout", await timed.CrossAsync(TimeSpan.FromSeconds(30.125), connection, dripper));
    }

    [Fact]
    public async Task A_client_idle_after_its_calls_is_closed_by_the_idle_timeout()
    {
        await using var timed = new TimedServer(new RpcLimits { IdleTimeout = TimeSpan.FromSeconds(60) });
        using var idler = await RawSocketClient.ConnectAsync(timed.Server.Address);
        await idler.BootstrapAsync();
        var call = EchoFrame(1, "hi");
        await idler.SendAsync(call);
        await idler.ReceiveAsync(RpcSchema.Message.Return);
        await idler.SendAsync(RawPeer.FinishFrame(1));
        var connection = await timed.OnlyConnectionAsync();

        await TimedServer.WaitUntilSeenAsync(connection, RawPeer.BootstrapFrame(0).Length + call.Length + RawPeer.FinishFrame(1).Length);

        Assert.Contains("IdleTimeout", await timed.CrossAsync(TimeSpan.FromSeconds(60), connection, idler));
    }

    [Fact]
    public async Task A_client_with_a_call_in_flight_is_not_closed_by_the_idle_timeout()
    {
        await using var timed = new TimedServer(new RpcLimits { IdleTimeout = TimeSpan.FromSeconds(60) });
        using var waiter = await RawSocketClient.ConnectAsync(timed.Server.Address);
        await waiter.BootstrapAsync();
        await waiter.SendAsync(RawPeer.CallFrame(1, 0, ServiceId, Methods.Block));
        await timed.Service.BlockStarted.Task.WaitAsync(Timeout);
        var connection = await timed.OnlyConnectionAsync();

        // The watchdog runs inside Advance: once it returns, the connection has been judged.
        timed.Clock.Advance(TimeSpan.FromMinutes(10));
        Assert.Null(connection.DisconnectReason);

        // Still served: another bootstrap is answered, not aborted.
        await waiter.BootstrapAsync(2);

        // Once the call ends (the client cancels it) the idle clock runs again.
        await waiter.SendAsync(RawPeer.FinishFrame(1));
        await timed.Service.BlockCancelled.Task.WaitAsync(Timeout);
        await waiter.ReceiveAsync(RpcSchema.Message.Return);
        await TimedServer.WaitUntilSeenAsync(connection, RawPeer.BootstrapFrame(0).Length + RawPeer.CallFrame(1, 0, ServiceId, Methods.Block).Length + RawPeer.BootstrapFrame(2).Length + RawPeer.FinishFrame(1).Length);
        Assert.Contains("IdleTimeout", await timed.CrossAsync(TimeSpan.FromSeconds(60), connection, waiter));
    }

    // ===== Memory of a partial message =====

    [Fact]
    public async Task A_dripper_costs_memory_in_proportion_to_what_it_sent()
    {
        var service = new TestServiceServer();
        using var bootstrap = Capability.FromServer(service);
        await using var server = CapnpServer.Listen("tcp://127.0.0.1:0", bootstrap);
        using var dripper = await RawSocketClient.ConnectAsync(server.Address);
        await dripper.BootstrapAsync();
        var connection = server.Connections.Single();

        // A 4 MiB message declared, then 2,000 of its bytes one at a time.
        await dripper.SendAsync([0, 0, 0, 0, 0, 0, 8, 0]);
        var before = GC.GetTotalMemory(forceFullCollection: true);
        for (var i = 0; i < 2000; i++)
        {
            await dripper.SendAsync([0x5a]);
        }

        await TimedServer.WaitUntilSeenAsync(connection, RawPeer.BootstrapFrame(0).Length + 8 + 2000);
        var grown = GC.GetTotalMemory(forceFullCollection: true) - before;

        // 32 KiB per byte would be 62.5 MiB; the frame reader's first body buffer is 64 KiB.
        Assert.True(grown < 2 * 1024 * 1024, $"The server's heap grew by {grown} bytes for 2,000 bytes dripped.");
        Assert.Null(connection.DisconnectReason);
    }

    // ===== A call delivered while its connection ends =====

    [Fact]
    public async Task A_call_whose_connection_ends_while_it_is_being_delivered_is_cancelled()
    {
        var (clientLink, serverLink) = RpcLinks.CreateMemoryPair();
        var aborting = new AbortingServer();
        CapnpConnection serverSide;
        using (var bootstrap = Capability.FromServer(aborting))
        {
            serverSide = CapnpConnection.Start(serverLink, new CapnpConnectionOptions { Bootstrap = bootstrap });
        }

        aborting.Connection = serverSide;
        await using var client = CapnpConnection.Start(clientLink);
        using var service = client.Bootstrap();
        using var call = Block(service);

        // The server's code aborts its own connection before the call is recorded on its answer.
        await aborting.Cancelled.Task.WaitAsync(Timeout);
        await Assert.ThrowsAsync<RpcException>(() => call.Response.WaitAsync(Timeout));
        await serverSide.DisposeAsync();
    }

    private sealed class AbortingServer : ICapabilityServer
    {
        public CapnpConnection? Connection { get; set; }

        public TaskCompletionSource Cancelled { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);

        public async Task DispatchAsync(CallContext context)
        {
            Connection!.Abort("test: aborted while the call is delivered");
            try
            {
                await Task.Delay(System.Threading.Timeout.Infinite, context.CancellationToken);
            }
            catch (OperationCanceledException)
            {
                Cancelled.TrySetResult();
                throw;
            }
        }
    }
}
