using System.Buffers;
using System.Net.Sockets;
using MessagePack;

namespace RpcGen.Transport.Message.Tests;

/// <summary>A hand-driven peer that writes whatever bytes a test wants and reads frames back.</summary>
public sealed class RawPeer : IAsyncDisposable
{
    private readonly Socket? _socket;
    private readonly RpcGen.Links.RpcLink? _link;
    private readonly Stream _reader;
    private readonly Stream _writer;

    public RawPeer(Socket socket)
    {
        _socket = socket;
        LocalAddress = socket.LocalEndPoint is System.Net.IPEndPoint ip ? $"tcp://{(ip.Address.IsIPv4MappedToIPv6 ? ip.Address.MapToIPv4() : ip.Address)}:{ip.Port}" : "?";
        _reader = _writer = new NetworkStream(socket, ownsSocket: true);
    }

    private RawPeer(RpcGen.Links.RpcLink link)
    {
        _link = link;
        LocalAddress = link.LocalAddress;
        _reader = link.Input.AsStream();
        _writer = link.Output.AsStream();
    }

    /// <summary>
    /// Connects to a <c>shm:</c> server over the raw link (each <see cref="SendAsync"/> is flushed: one
    /// datagram, or several when larger than a window), with <paramref name="limits"/> for the link's own
    /// inbound pipe; exchanges hellos unless <paramref name="hello"/> is false.
    /// </summary>
    public static async Task<RawPeer> ConnectSharedMemoryAsync(string shmAddress, RpcLimits? limits = null, bool hello = true)
    {
        var provider = new RpcGen.Transport.SharedMemory.SharedMemoryLinkProvider(new RpcGen.Transport.SharedMemory.SharedMemoryOptions());
        var link = await provider.ConnectAsync(shmAddress, new RpcGen.Links.RpcLinkContext { Limits = limits ?? new RpcLimits() }, CancellationToken.None);
        var peer = new RawPeer(link);
        if (hello)
        {
            await peer.ExchangeHellosAsync();
        }

        return peer;
    }

    /// <summary>
    /// Connects to a server; unless <paramref name="hello"/> is false, also exchanges hellos (the
    /// server refuses any other first frame), so the test's frames are read as calls.
    /// </summary>
    public static async Task<RawPeer> ConnectAsync(string tcpAddress, string? localIp = null, int? receiveBufferSize = null, bool hello = true)
    {
        var address = RpcAddress.Parse(tcpAddress);
        var socket = new Socket(SocketType.Stream, ProtocolType.Tcp) { NoDelay = true };
        if (receiveBufferSize is { } size)
        {
            // Set before connecting so the window the server sees is small: a peer that does not
            // read then stops the server's sends after a few KiB instead of megabytes of kernel buffer.
            socket.ReceiveBufferSize = size;
        }

        if (localIp is not null)
        {
            socket.Bind(new System.Net.IPEndPoint(System.Net.IPAddress.Parse(localIp), 0));
        }

        await socket.ConnectAsync(address.Host, address.Port);
        var peer = new RawPeer(socket);
        if (hello)
        {
            await peer.ExchangeHellosAsync();
        }

        return peer;
    }

    private async Task ExchangeHellosAsync()
    {
        await SendAsync(HelloFrame());
        var answer = await ReadFrameAsync();
        Assert.Equal(FrameKind.Hello, answer?.Header.Kind);
    }

    /// <summary>A hello frame as a client or server of <paramref name="version"/> sends it.</summary>
    internal static byte[] HelloFrame(ushort version = HelloPayload.CurrentVersion, int maxFrameBytes = 4 * 1024 * 1024, ulong features = 0)
    {
        var payload = new System.Buffers.ArrayBufferWriter<byte>();
        new HelloPayload(version, features, maxFrameBytes, 8 * 1024 * 1024).Write(payload);
        return FrameParserTests.Frame(new FrameHeader(FrameKind.Hello, 0, payload.WrittenCount, 0, 0, 0, 0), payload.WrittenSpan.ToArray());
    }

    /// <summary>A loopback listener on an ephemeral port, for a test that plays the server by hand; <paramref name="address"/> is its <c>tcp://</c> address.</summary>
    public static Socket Listen(out string address)
    {
        var listener = new Socket(SocketType.Stream, ProtocolType.Tcp);
        listener.Bind(new System.Net.IPEndPoint(System.Net.IPAddress.Loopback, 0));
        listener.Listen(1);
        address = $"tcp://127.0.0.1:{((System.Net.IPEndPoint)listener.LocalEndPoint!).Port}";
        return listener;
    }

    /// <summary>
    /// Connects an <see cref="RpcClient"/> to <paramref name="listener"/> and plays the server's side of
    /// the handshake (ConnectAsync returns only once the server's hello arrived); returns both ends.
    /// </summary>
    public static async Task<(RpcClient Client, RawPeer Server)> ConnectClientAsync(Socket listener, RpcClientOptions? options = null)
    {
        var port = ((System.Net.IPEndPoint)listener.LocalEndPoint!).Port;
        var connecting = RpcClient.ConnectAsync($"tcp://127.0.0.1:{port}", options);
        var server = new RawPeer(await listener.AcceptAsync());
        await server.ExpectHelloAsync();
        return (await connecting, server);
    }

    /// <summary>This end's address as the server sees the peer (<c>tcp://127.0.0.1:PORT</c>), for matching log lines.</summary>
    public string LocalAddress { get; }

    /// <summary>Stops sending (the server reads end of stream) but keeps reading.</summary>
    public void ShutdownSend() => _socket!.Shutdown(SocketShutdown.Send);

    public Task SendAsync(byte[] bytes) => _writer.WriteAsync(bytes).AsTask();

    /// <summary>Puts <paramref name="frame"/> on a <c>shm:</c> link's call lane; false while the server has not taken the previous one.</summary>
    public bool TrySendOnLane(byte[] frame) => _link!.TrySendOnLane(frame);

    public Task SendFrameAsync(FrameKind kind, uint callId, uint methodId, ulong serviceId, byte[] payload, long deadlineMicroseconds = 0) =>
        SendAsync(FrameParserTests.Frame(new FrameHeader(kind, 0, payload.Length, callId, methodId, serviceId, deadlineMicroseconds), payload));

    /// <summary>Reads the next frame, or null at end of stream.</summary>
    public async Task<(FrameHeader Header, byte[] Payload)?> ReadFrameAsync()
    {
        var header = new byte[FrameHeader.Size];
        if (!await ReadExactlyOrEndAsync(header))
        {
            return null;
        }

        Assert.True(header[0] == FrameHeader.Magic0 && header[1] == FrameHeader.Magic1, "The peer sent a frame without the magic.");
        var parsed = FrameHeader.Read(header);
        var payload = new byte[parsed.PayloadLength];
        Assert.True(await ReadExactlyOrEndAsync(payload), "The stream ended inside a frame.");
        return (parsed, payload);
    }

    /// <summary>
    /// Reads the next frame that is not <see cref="FrameKind.Metadata"/>. A client sends a call's
    /// headers first when a trace is active, which any test's process-wide listener can make so.
    /// </summary>
    public async Task<(FrameHeader Header, byte[] Payload)?> ReadCallFrameAsync()
    {
        while (true)
        {
            var frame = await ReadFrameAsync();
            if (frame is not { Header.Kind: FrameKind.Metadata })
            {
                return frame;
            }
        }
    }

    /// <summary>
    /// Plays a server's part of the handshake: reads the hello an <see cref="RpcClient"/> sends as soon
    /// as it connects and, unless <paramref name="answer"/> is false, answers with a hello of
    /// <paramref name="version"/> (so the client's ConnectAsync returns). Returns the client's hello.
    /// </summary>
    internal async Task<HelloPayload> ExpectHelloAsync(bool answer = true, ushort version = HelloPayload.CurrentVersion)
    {
        var hello = await ReadFrameAsync();
        Assert.Equal(FrameKind.Hello, hello?.Header.Kind);
        Assert.Null(HelloPayload.TryRead(new System.Buffers.ReadOnlySequence<byte>(hello!.Value.Payload), out var parsed));
        if (answer)
        {
            await SendAsync(HelloFrame(version));
        }

        return parsed;
    }

    /// <summary>Reads until the peer closes; returns the frames seen on the way.</summary>
    public async Task<List<(FrameHeader Header, byte[] Payload)>> ReadUntilClosedAsync()
    {
        var frames = new List<(FrameHeader, byte[])>();
        while (await ReadFrameAsync() is { } frame)
        {
            frames.Add(frame);
        }

        return frames;
    }

    public void Close() => _socket!.Shutdown(SocketShutdown.Both);

    public async ValueTask DisposeAsync()
    {
        if (_link is null)
        {
            await _reader.DisposeAsync();
        }
        else
        {
            await _link.DisposeAsync();
        }
    }

    public delegate void Write(ref MessagePackWriter writer);

    public static byte[] Pack(Write write)
    {
        var buffer = new ArrayBufferWriter<byte>();
        var writer = new MessagePackWriter(buffer);
        write(ref writer);
        writer.Flush();
        return buffer.WrittenSpan.ToArray();
    }

    /// <summary>The request envelope of <c>IScenarioService.AddAsync(a, b)</c>.</summary>
    public static byte[] AddRequest(int a, int b) => Pack((ref MessagePackWriter w) =>
    {
        w.WriteArrayHeader(2);
        w.Write(a);
        w.Write(b);
    });

    /// <summary>Reads until the peer closes and returns the message of the protocol-error Abort it sent on the way.</summary>
    public async Task<string> ReadAbortReasonAsync(TimeSpan timeout)
    {
        var frames = await ReadUntilClosedAsync().WaitAsync(timeout);
        var abort = Assert.Single(frames, f => f.Header.Kind == FrameKind.Abort);
        var (code, message) = ReadError(abort.Payload);
        Assert.Equal((int)RpcStatusCode.ProtocolError, code);
        return message;
    }

    public static (int Code, string Message) ReadError(byte[] payload)
    {
        var reader = new MessagePackReader(payload);
        Assert.Equal(2, reader.ReadArrayHeader());
        return (reader.ReadInt32(), reader.ReadString()!);
    }

    private async Task<bool> ReadExactlyOrEndAsync(byte[] buffer)
    {
        var read = 0;
        while (read < buffer.Length)
        {
            int n;
            try
            {
                n = await _reader.ReadAsync(buffer.AsMemory(read));
            }
            catch (Exception ex) when (ex is IOException || (ex is RpcException { StatusCode: RpcStatusCode.Disconnected }))
            {
                n = 0;
            }

            if (n == 0)
            {
                return false;
            }

            read += n;
        }

        return true;
    }
}
