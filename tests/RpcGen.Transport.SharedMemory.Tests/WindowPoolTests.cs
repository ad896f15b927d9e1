using System.Net.Sockets;
using RpcGen.Links;
using RpcGen.Testing;

namespace RpcGen.Transport.SharedMemory.Tests;

/// <summary>A contract whose first call holds a server slot until the test lets it go.</summary>
[RpcService(0x5E57_5000_0000_0020)]
public interface IShmGate
{
    /// <summary>Answers once the test opens the gate.</summary>
    Task<int> HoldAsync();

    /// <summary>Answers at once.</summary>
    Task<int> PingAsync();
}

/// <summary>
/// The pool of windows per direction: many callers and chunks in flight at once, in order, across a
/// real second process; a peer that stops draining holds the sender at the pool and is then given up;
/// and the fail-fast <see cref="RpcStatusCode.Overloaded"/> policy, which lives at the call level.
/// </summary>
public sealed class WindowPoolTests
{
    private static readonly TimeSpan s_timeout = TimeSpan.FromSeconds(30);

    public WindowPoolTests() => SharedMemoryLinks.Register();

    [Fact]
    public async Task Concurrent_callers_lap_a_small_pool_many_times_and_every_answer_arrives_whole()
    {
        // One-page windows, three per direction: every echo spans many windows and laps the ring.
        await using var host = await HostProcess.StartAsync(windowBytes: 4096, windowsPerDirection: 3);
        await using var client = await RpcClient.ConnectAsync(host.Address).WaitAsync(s_timeout);
        var service = client.GetService<IShmService>();

        var callers = Enumerable.Range(0, 32).Select(caller => Task.Run(async () =>
        {
            var random = new Random(caller);
            for (var i = 0; i < 10; i++)
            {
                var data = new byte[random.Next(1, 40_000)];
                random.NextBytes(data);
                Assert.Equal(data, await service.EchoAsync(data));
                Assert.Equal(caller + i, await service.AddAsync(caller, i));
            }
        }));

        await Task.WhenAll(callers).WaitAsync(s_timeout);
    }

    [Fact]
    public async Task A_peer_that_stops_draining_holds_the_sender_at_the_pool_then_is_given_up()
    {
        const int Windows = 3;
        const int WindowBytes = 4096;
        var provider = new SharedMemoryLinkProvider(new SharedMemoryOptions { WindowBytes = WindowBytes, WindowsPerDirection = Windows, PeerResponseTimeout = TimeSpan.FromSeconds(5) });
        var path = Path.Combine(Path.GetTempPath(), $"rpcgen-shm-{Guid.NewGuid():N}.sock");
        await using var listener = provider.Listen("shm:" + path, new RpcLinkContext { Limits = new RpcLimits { HandshakeTimeout = TimeSpan.FromSeconds(5) } });

        // The peer does the rendezvous and both window handshakes by hand, so it can read the
        // server-to-client ring itself and choose when to acknowledge.
        using var peer = new Socket(AddressFamily.Unix, SocketType.Stream, ProtocolType.Unspecified);
        await peer.ConnectAsync(new UnixDomainSocketEndPoint(path)).WaitAsync(s_timeout);
        var hello = await Rendezvous.ReceiveHelloAsync(peer, CancellationToken.None).WaitAsync(s_timeout);
        Assert.Equal(Windows, hello.WindowsPerDirection);
        using var file = hello.File;
        using var toServer = new RawWindow(file.FileDescriptor, hello.Offset, WindowBytes);
        var toClient = Enumerable.Range(0, Windows).Select(i => new RawWindow(file.FileDescriptor, hello.Offset + ((long)(Windows + i) * WindowBytes), WindowBytes)).ToArray();
        try
        {
            toServer.State = PacketHeader.ServerActive;
            await EndpointTests.WaitUntilAsync(() => toClient[0].State == PacketHeader.ServerActive);
            toClient[0].State = PacketHeader.ClientActive;
            await using var served = (await listener.AcceptAsync().AsTask().WaitAsync(s_timeout))!;

            // Three laps of the ring; the server's writer may run ahead of us by the pool, no further.
            // The link sends on the flushing thread, so that flush returns only once every chunk is
            // in a window: it runs on a thread of its own while this one drains.
            const int Chunk = WindowBytes - PacketHeader.Bytes;
            var stream = new byte[3 * Windows * Chunk];
            new Random(7).NextBytes(stream);
            var writing = Task.Run(async () => await served.Output.WriteAsync(stream));

            // Drain two laps strictly in ring order: each window holds the next piece of the stream,
            // so no window was written again before we gave it back.
            for (var chunk = 0; chunk < 2 * Windows; chunk++)
            {
                var window = toClient[chunk % Windows];
                await EndpointTests.WaitUntilAsync(() => window.State == PacketHeader.ServerActive);
                Assert.Equal((uint)Chunk, window.Length);
                Assert.Equal(stream.AsSpan(chunk * Chunk, Chunk).ToArray(), window.ReadData(Chunk));
                window.State = PacketHeader.ClientActive;
            }

            // The last lap went into the pool without waiting for us: the write is done.
            await writing.WaitAsync(s_timeout);
            Assert.All(toClient, window => Assert.Equal(PacketHeader.ServerActive, window.State));

            // Stop draining: the next write waits for the oldest window, and the sender gives the
            // peer up after PeerResponseTimeout.
            var error = await Assert.ThrowsAsync<RpcException>(async () =>
            {
                for (var i = 0; i < 100; i++)
                {
                    await served.Output.WriteAsync(stream).AsTask().WaitAsync(s_timeout);
                }
            });

            Assert.Equal(RpcStatusCode.Disconnected, error.StatusCode);
            Assert.Contains("did not hand control back", error.Message);
        }
        finally
        {
            foreach (var window in toClient)
            {
                window.Dispose();
            }
        }
    }

    [Fact]
    public async Task Calls_beyond_the_servers_call_limit_fail_fast_with_Overloaded_over_shm()
    {
        var gate = new Gate();
        await using var server = new RpcServer(new RpcServerOptions { Limits = new RpcLimits { MaxConcurrentCalls = 1 } });
        server.AddService<IShmGate>(gate);
        await server.StartAsync(HostProcess.NewAddress());
        await using var client = await RpcClient.ConnectAsync(server.Addresses[0]).WaitAsync(s_timeout);
        var proxy = client.GetService<IShmGate>();

        var held = proxy.HoldAsync();
        await gate.Entered.Task.WaitAsync(s_timeout);
        var error = await Assert.ThrowsAsync<RpcException>(() => proxy.PingAsync().WaitAsync(s_timeout));
        gate.Open.SetResult();

        // The refused call cost the held one nothing. (Not followed by another call: the server
        // may free the held call's slot only after its answer has left, so a call sent the moment
        // that answer arrives can still be refused.)
        Assert.Equal(RpcStatusCode.Overloaded, error.StatusCode);
        Assert.Equal(1, await held.WaitAsync(s_timeout));
    }

    private sealed class Gate : IShmGate
    {
        public TaskCompletionSource Entered { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);

        public TaskCompletionSource Open { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);

        public async Task<int> HoldAsync()
        {
            Entered.SetResult();
            await Open.Task;
            return 1;
        }

        public Task<int> PingAsync() => Task.FromResult(2);
    }
}
