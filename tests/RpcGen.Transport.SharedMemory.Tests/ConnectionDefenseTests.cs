using System.Buffers;
using System.IO.Pipelines;
using System.Net.Sockets;
using RpcGen.Links;
using RpcGen.Transport.Message.Tests;

namespace RpcGen.Transport.SharedMemory.Tests;

/// <summary>
/// What clients that start a rendezvous and never finish it, or connect and never send a byte, can
/// make a <c>shm:</c> listener hold is bounded by <see cref="RpcLimits.MaxConnections"/> and
/// <see cref="SharedMemoryOptions.MaxServerMappedBytes"/>, and a connected client keeps being served
/// (README, Limits and hostile input: the defenses table).
/// </summary>
public sealed class ConnectionDefenseTests
{
    private static readonly TimeSpan Timeout = TimeSpan.FromSeconds(30);

    public ConnectionDefenseTests() => SharedMemoryLinks.Register();

    private static string NewAddress() => "shm:" + Path.Combine(Path.GetTempPath(), $"rpcgen-shm-{Guid.NewGuid():N}.sock");

    [Fact]
    public async Task Rendezvous_that_never_finish_hold_at_most_MaxConnections_clients_until_the_handshake_timeout_and_a_connected_client_keeps_working()
    {
        using var logs = new CapturingLoggerProvider();
        var limits = new RpcLimits { MaxConnections = 4, HandshakeTimeout = TimeSpan.FromSeconds(3) };
        var options = new SharedMemoryOptions();
        var provider = new SharedMemoryLinkProvider(options);
        var address = NewAddress();
        await using var listener = (SharedMemoryListener)provider.Listen(address, new RpcLinkContext { Limits = limits, Logger = logs.CreateLogger("shm") });
        await using var good = await provider.ConnectAsync(address, new RpcLinkContext { Limits = limits }, CancellationToken.None).AsTask().WaitAsync(Timeout);
        await using var served = (await listener.AcceptAsync().AsTask().WaitAsync(Timeout))!;

        // Three clients take their memory file and never answer the window handshake.
        var stalled = new List<(Socket Socket, IDisposable File)>();
        try
        {
            for (var i = 0; i < 3; i++)
            {
                var socket = await ConnectRawAsync(address);
                var hello = await Rendezvous.ReceiveHelloAsync(socket, CancellationToken.None).WaitAsync(Timeout);
                stalled.Add((socket, hello.File));
            }

            // The listener is full: the next client is hung up on before any memory is made for it.
            using (var extra = await ConnectRawAsync(address))
            {
                await AssertHungUpAsync(extra);
            }

            Assert.Contains("RpcLimits.MaxConnections 4", await logs.WaitForAsync("hung up on a new client", Timeout), StringComparison.Ordinal);
            Assert.Equal(4, listener.HeldClients);
            Assert.Equal(4 * options.ConnectionMappedBytes, listener.MappedBytes);
            await AssertExchangeAsync(good, served);

            // At the handshake timeout each stalled client is hung up on and its memory released.
            foreach (var (socket, _) in stalled)
            {
                await AssertHungUpAsync(socket);
            }

            await logs.WaitForCountAsync("rendezvous with a client failed", stalled.Count, Timeout);
            Assert.Equal(1, listener.HeldClients);

            await using var late = await provider.ConnectAsync(address, new RpcLinkContext { Limits = limits }, CancellationToken.None).AsTask().WaitAsync(Timeout);
            await using var lateServed = (await listener.AcceptAsync().AsTask().WaitAsync(Timeout))!;
            await AssertExchangeAsync(late, lateServed);
            await AssertExchangeAsync(good, served);
        }
        finally
        {
            foreach (var (socket, file) in stalled)
            {
                socket.Dispose();
                file.Dispose();
            }
        }
    }

    [Fact]
    public async Task Connected_clients_that_never_send_hold_at_most_MaxServerMappedBytes_and_a_closed_one_gives_its_memory_back()
    {
        // 2 ring windows and the call lane's one, of 64 KiB each way: 384 KiB per client, so a 1.5 MiB budget holds four.
        using var logs = new CapturingLoggerProvider();
        var options = new SharedMemoryOptions { WindowBytes = 64 * 1024, WindowsPerDirection = 2, MaxServerMappedBytes = 1536 * 1024 };
        var limits = new RpcLimits { MaxConnections = 100 };
        var provider = new SharedMemoryLinkProvider(options);
        var address = NewAddress();
        var context = new RpcLinkContext { Limits = limits };
        await using var listener = (SharedMemoryListener)provider.Listen(address, new RpcLinkContext { Limits = limits, Logger = logs.CreateLogger("shm") });
        var clients = new List<(RpcLink Client, RpcLink Served)>();
        try
        {
            for (var i = 0; i < 4; i++)
            {
                var client = await provider.ConnectAsync(address, context, CancellationToken.None).AsTask().WaitAsync(Timeout);
                clients.Add((client, (await listener.AcceptAsync().AsTask().WaitAsync(Timeout))!));
            }

            var refused = await Assert.ThrowsAsync<RpcException>(() => provider.ConnectAsync(address, context, CancellationToken.None).AsTask().WaitAsync(Timeout));
            Assert.Equal(RpcStatusCode.Disconnected, refused.StatusCode);
            Assert.Contains("MaxServerMappedBytes 1572864", await logs.WaitForAsync("hung up on a new client", Timeout), StringComparison.Ordinal);
            Assert.Equal(options.MaxServerMappedBytes, listener.MappedBytes);
            await AssertExchangeAsync(clients[0].Client, clients[0].Served);

            // A client that leaves gives its windows back, and the next one fits.
            await clients[^1].Client.DisposeAsync();
            await logs.WaitForAsync("memory file was released; 3 client(s)", Timeout);
            Assert.Equal(3 * options.ConnectionMappedBytes, listener.MappedBytes);
            await using var next = await provider.ConnectAsync(address, context, CancellationToken.None).AsTask().WaitAsync(Timeout);
            await using var nextServed = (await listener.AcceptAsync().AsTask().WaitAsync(Timeout))!;
            await AssertExchangeAsync(next, nextServed);
        }
        finally
        {
            foreach (var (client, served) in clients)
            {
                await client.DisposeAsync();
                await served.DisposeAsync();
            }
        }
    }

    [Fact]
    public async Task Links_opened_and_closed_in_turn_each_give_their_slot_back_whichever_side_closes_first()
    {
        // One slot: a close that kept its client's slot would leave the listener holding it, and no
        // later client could connect.
        var limits = new RpcLimits { MaxConnections = 1 };
        var provider = new SharedMemoryLinkProvider(new SharedMemoryOptions());
        var address = NewAddress();
        var context = new RpcLinkContext { Limits = limits };
        await using var listener = (SharedMemoryListener)provider.Listen(address, context);
        var clock = System.Diagnostics.Stopwatch.StartNew();
        const int Cycles = 200;
        for (var i = 0; i < Cycles; i++)
        {
            var client = await provider.ConnectAsync(address, context, CancellationToken.None).AsTask().WaitAsync(Timeout);
            RpcLink? served = null;
            try
            {
                served = (await listener.AcceptAsync().AsTask().WaitAsync(Timeout))!;
                await AssertExchangeAsync(client, served);
                var (first, second) = i % 2 == 0 ? (client, served) : (served, client);
                await first.DisposeAsync().AsTask().WaitAsync(Timeout);
                await second.DisposeAsync().AsTask().WaitAsync(Timeout);
            }
            finally
            {
                await client.DisposeAsync();
                if (served is not null)
                {
                    await served.DisposeAsync();
                }
            }

            try
            {
                await EndpointTests.WaitUntilAsync(() => listener.HeldClients == 0);
            }
            catch (OperationCanceledException)
            {
                Assert.Fail($"After cycle {i} ({(i % 2 == 0 ? "client" : "server")} closed first) the listener still held {listener.HeldClients} client(s) 30 s after both ends closed.");
            }
        }

        TestContext.Current.SendDiagnosticMessage($"{Cycles} shm links opened, used and closed in turn: {clock.Elapsed.TotalMilliseconds / Cycles:F2} ms each");
    }

    private static async Task<Socket> ConnectRawAsync(string address)
    {
        var socket = new Socket(AddressFamily.Unix, SocketType.Stream, ProtocolType.Unspecified);
        await socket.ConnectAsync(new UnixDomainSocketEndPoint(address["shm:".Length..])).WaitAsync(Timeout);
        return socket;
    }

    private static async Task AssertHungUpAsync(Socket socket)
    {
        var buffer = new byte[64];
        try
        {
            while (await socket.ReceiveAsync(buffer.AsMemory()).AsTask().WaitAsync(Timeout) > 0)
            {
            }
        }
        catch (SocketException ex) when (ex.SocketErrorCode == SocketError.ConnectionReset)
        {
            // Hung up with a reset: as closed as an end of stream.
        }
    }

    private static async Task AssertExchangeAsync(RpcLink client, RpcLink server)
    {
        await client.Output.WriteAsync("ping"u8.ToArray()).AsTask().WaitAsync(Timeout);
        Assert.Equal("ping"u8.ToArray(), await ReadAsync(server.Input, 4));
        await server.Output.WriteAsync("pong"u8.ToArray()).AsTask().WaitAsync(Timeout);
        Assert.Equal("pong"u8.ToArray(), await ReadAsync(client.Input, 4));
    }

    private static async Task<byte[]> ReadAsync(PipeReader input, int count)
    {
        while (true)
        {
            var result = await input.ReadAsync().AsTask().WaitAsync(Timeout);
            if (result.Buffer.Length >= count)
            {
                var bytes = result.Buffer.Slice(0, count).ToArray();
                input.AdvanceTo(result.Buffer.GetPosition(count));
                return bytes;
            }

            Assert.False(result.IsCompleted, "The link ended before the bytes arrived.");
            input.AdvanceTo(result.Buffer.Start, result.Buffer.End);
        }
    }
}
