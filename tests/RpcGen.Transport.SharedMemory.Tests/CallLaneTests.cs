using System.Buffers.Binary;
using System.Net.Sockets;
using Microsoft.Extensions.Logging;
using RpcGen.Links;
using RpcGen.Transport.Message.Tests;

namespace RpcGen.Transport.SharedMemory.Tests;

/// <summary>
/// The call lane (one window each way after the rings, for a lone caller's request and its answer)
/// is as hostile an input as the rings: a server takes only one whole call or answer frame from
/// it, cuts off a client that puts anything else there, and goes on serving others; a client that
/// scribbles on its connection's doorbell word costs the server nothing but that connection's wake-ups.
/// </summary>
public sealed class CallLaneTests
{
    private static readonly TimeSpan s_timeout = TimeSpan.FromSeconds(30);

    public CallLaneTests() => SharedMemoryLinks.Register();

    public static TheoryData<string, byte[], string> HostileLaneFrames() => new()
    {
        { "bytes that are no frame", Enumerable.Repeat((byte)0xFF, 40).ToArray(), "not one whole frame" },
        { "a frame that declares more bytes than the lane carries", FrameBytes(kind: 1, declaredPayload: 1000, carriedPayload: 8), "not one whole frame" },
        { "a whole frame of a kind the lane does not carry", FrameBytes(kind: 0xEE, declaredPayload: 8, carriedPayload: 8), "carries calls and answers only" },
    };

    [Theory]
    [MemberData(nameof(HostileLaneFrames))]
    public async Task A_client_that_puts_anything_but_one_whole_call_on_the_lane_is_cut_off_and_others_are_served(string what, byte[] datagram, string reason)
    {
        using var logs = new CapturingLoggerProvider();
        // The hand-made client never acknowledges what the server sends, so the server's close of
        // the link waits for its end of the stream to be taken up to the handshake timeout.
        await using var server = new RpcServer(new RpcServerOptions
        {
            LoggerFactory = LoggerFactory.Create(b => b.AddProvider(logs)),
            Limits = new RpcLimits { HandshakeTimeout = TimeSpan.FromSeconds(2) },
        });
        server.AddService<IShmGate>(new Pinger());
        await server.StartAsync(HostProcess.NewAddress());

        using (var hostile = await ConnectByHandAsync(server.Addresses[0]))
        {
            hostile.Lane.WriteData(datagram);
            hostile.Lane.Length = (uint)datagram.Length;
            hostile.Lane.State = PacketHeader.ServerActive;

            await AssertHungUpAsync(hostile.Socket);
            Assert.Contains(reason, await logs.WaitForAsync("The call lane carried", s_timeout), StringComparison.Ordinal);
        }

        await using var client = await RpcClient.ConnectAsync(server.Addresses[0]).WaitAsync(s_timeout);
        Assert.True(2 == await client.GetService<IShmGate>().PingAsync().WaitAsync(s_timeout), what);
    }

    [Fact]
    public async Task A_client_that_scribbles_on_its_doorbell_word_does_not_stop_the_server_serving_others()
    {
        await using var server = new RpcServer();
        server.AddService<IShmGate>(new Pinger());
        await server.StartAsync(HostProcess.NewAddress());
        await using var client = await RpcClient.ConnectAsync(server.Addresses[0]).WaitAsync(s_timeout);
        var proxy = client.GetService<IShmGate>();
        Assert.Equal(2, await proxy.PingAsync().WaitAsync(s_timeout));

        using (var hostile = await ConnectByHandAsync(server.Addresses[0]))
        {
            // The word the server's receiving thread for this connection sleeps on, rewritten a
            // bounded number of times while the good client calls.
            var scribbling = Task.Run(() =>
            {
                for (var i = 0; i < 200_000; i++)
                {
                    hostile.Lane.Doorbell = i;
                }
            });

            for (var call = 0; call < 100; call++)
            {
                Assert.Equal(2, await proxy.PingAsync().WaitAsync(s_timeout));
            }

            await scribbling.WaitAsync(s_timeout);
        }

        Assert.Equal(2, await proxy.PingAsync().WaitAsync(s_timeout));
    }

    [Fact]
    public async Task A_lane_datagram_to_a_link_read_through_its_pipe_is_left_alone_and_the_ring_still_delivers()
    {
        // A protocol that reads the link's Input (Cap'n Proto) takes no lane frames. A hostile
        // client's lane datagram must neither be taken nor hold up the ring behind it (a drain that
        // waited for the lane to be taken first would wait for ever).
        var address = HostProcess.NewAddress();
        await using var listener = RpcLinks.Listen(address, new RpcLimits { HandshakeTimeout = TimeSpan.FromSeconds(2) });
        var accepting = listener.AcceptAsync().AsTask();
        using var hostile = await ConnectByHandAsync(address);
        await using var served = (await accepting.WaitAsync(s_timeout))!;
        var reading = served.Input.ReadAtLeastAsync(5).AsTask();

        hostile.Lane.WriteData([1, 2, 3]);
        hostile.Lane.Length = 3;
        hostile.Lane.State = PacketHeader.ServerActive;
        hostile.ClientToServer.WriteData("hello"u8.ToArray());
        hostile.ClientToServer.Length = 5;
        hostile.ClientToServer.State = PacketHeader.ServerActive;

        var read = await reading.WaitAsync(s_timeout);
        Assert.Equal("hello"u8.ToArray(), System.Buffers.BuffersExtensions.ToArray(read.Buffer));
        served.Input.AdvanceTo(read.Buffer.End);
        Assert.Equal(PacketHeader.ServerActive, hostile.Lane.State);
    }

    /// <summary>A frame header (32 bytes: kind at byte 2, payload length at bytes 4..8) and <paramref name="carriedPayload"/> bytes.</summary>
    private static byte[] FrameBytes(byte kind, int declaredPayload, int carriedPayload)
    {
        var bytes = new byte[32 + carriedPayload];
        bytes[2] = kind;
        BinaryPrimitives.WriteInt32LittleEndian(bytes.AsSpan(4), declaredPayload);
        return bytes;
    }

    /// <summary>
    /// A client that does the rendezvous and both windows' handshakes by hand, as another process
    /// could, and keeps a raw view of the client-to-server lane window.
    /// </summary>
    private static async Task<HandMadeClient> ConnectByHandAsync(string address)
    {
        var socket = new Socket(AddressFamily.Unix, SocketType.Stream, ProtocolType.Unspecified);
        await socket.ConnectAsync(new UnixDomainSocketEndPoint(address["shm:".Length..])).WaitAsync(s_timeout);
        var hello = await Rendezvous.ReceiveHelloAsync(socket, CancellationToken.None).WaitAsync(s_timeout);
        var ring = (long)hello.WindowsPerDirection * hello.WindowBytes;
        var clientToServer = new RawWindow(hello.File.FileDescriptor, hello.Offset, hello.WindowBytes);
        var serverToClient = new RawWindow(hello.File.FileDescriptor, hello.Offset + ring, hello.WindowBytes);
        var lane = new RawWindow(hello.File.FileDescriptor, hello.Offset + (2 * ring), hello.WindowBytes);

        // Our connect on the client-to-server ring, answered by the server; the server's connect on
        // the server-to-client ring, answered by us.
        clientToServer.State = PacketHeader.ServerActive;
        await EndpointTests.WaitUntilAsync(() => clientToServer.State == PacketHeader.ClientActive);
        await EndpointTests.WaitUntilAsync(() => serverToClient.State == PacketHeader.ServerActive);
        serverToClient.State = PacketHeader.ClientActive;
        return new HandMadeClient(socket, hello.File, [clientToServer, serverToClient, lane]);
    }

    private static async Task AssertHungUpAsync(Socket socket)
    {
        var buffer = new byte[64];
        while (await socket.ReceiveAsync(buffer.AsMemory()).AsTask().WaitAsync(s_timeout) > 0)
        {
        }
    }

    private sealed class HandMadeClient(Socket socket, IDisposable file, RawWindow[] windows) : IDisposable
    {
        public Socket Socket => socket;

        public RawWindow ClientToServer => windows[0];

        public RawWindow Lane => windows[2];

        public void Dispose()
        {
            foreach (var window in windows)
            {
                window.Dispose();
            }

            file.Dispose();
            socket.Dispose();
        }
    }

    private sealed class Pinger : IShmGate
    {
        public Task<int> HoldAsync() => Task.FromResult(1);

        public Task<int> PingAsync() => Task.FromResult(2);
    }
}
