using System.Net.Sockets;
using RpcGen.Links;

namespace RpcGen.Transport.SharedMemory.Tests;

/// <summary>
/// A client that does the rendezvous and both window handshakes by hand, so a test can read the
/// server-to-client ring itself and choose when (and whether) to give each window back.
/// </summary>
internal sealed class RawClient : IAsyncDisposable
{
    public const int Windows = 3;
    // Three pages: a closed link frees every page of a window but the header's.
    public const int WindowBytes = 3 * 4096;
    public const int Chunk = WindowBytes - PacketHeader.Bytes;
    private static readonly TimeSpan s_timeout = TimeSpan.FromSeconds(30);

    private readonly RpcLinkListener _listener;
    private readonly Socket _socket;
    private readonly MemoryFile _file;
    private readonly RawWindow _toServer;
    private readonly long _offset;

    private RawClient(RpcLinkListener listener, Socket socket, MemoryFile file, long offset, RawWindow toServer, RawWindow[] toClient)
    {
        _offset = offset;
        _listener = listener;
        _socket = socket;
        _file = file;
        _toServer = toServer;
        ToClient = toClient;
    }

    /// <summary>The server's end of the link.</summary>
    public RpcLink Served { get; private set; } = null!;

    /// <summary>The server-to-client ring, as this client sees it.</summary>
    public RawWindow[] ToClient { get; }

    /// <summary>Listens with <paramref name="peerTimeout"/> as the server's <see cref="SharedMemoryOptions.PeerResponseTimeout"/> and connects.</summary>
    public static async Task<RawClient> ConnectAsync(TimeSpan peerTimeout)
    {
        var provider = new SharedMemoryLinkProvider(new SharedMemoryOptions { WindowBytes = WindowBytes, WindowsPerDirection = Windows, PeerResponseTimeout = peerTimeout });
        var path = Path.Combine(Path.GetTempPath(), $"rpcgen-shm-{Guid.NewGuid():N}.sock");
        var listener = provider.Listen("shm:" + path, new RpcLinkContext { Limits = new RpcLimits { HandshakeTimeout = TimeSpan.FromSeconds(5) } });
        var socket = new Socket(AddressFamily.Unix, SocketType.Stream, ProtocolType.Unspecified);
        await socket.ConnectAsync(new UnixDomainSocketEndPoint(path)).WaitAsync(s_timeout);
        var hello = await Rendezvous.ReceiveHelloAsync(socket, CancellationToken.None).WaitAsync(s_timeout);
        Assert.Equal(Windows, hello.WindowsPerDirection);
        var file = hello.File;
        var toServer = new RawWindow(file.FileDescriptor, hello.Offset, WindowBytes);
        var toClient = Enumerable.Range(0, Windows).Select(i => new RawWindow(file.FileDescriptor, hello.Offset + ((long)(Windows + i) * WindowBytes), WindowBytes)).ToArray();
        var client = new RawClient(listener, socket, file, hello.Offset, toServer, toClient);
        try
        {
            toServer.State = PacketHeader.ServerActive;
            await EndpointTests.WaitUntilAsync(() => toClient[0].State == PacketHeader.ServerActive);
            toClient[0].State = PacketHeader.ClientActive;
            client.Served = (await listener.AcceptAsync().AsTask().WaitAsync(s_timeout))!;
            return client;
        }
        catch
        {
            await client.DisposeAsync();
            throw;
        }
    }

    /// <summary>Waits until the server hands window <paramref name="index"/> over with <paramref name="expectedLength"/> bytes, reads them and gives the window back.</summary>
    public async Task<byte[]> TakeAsync(int index, int expectedLength)
    {
        var window = ToClient[index];
        await EndpointTests.WaitUntilAsync(() => window.State == PacketHeader.ServerActive);
        Assert.Equal((uint)expectedLength, window.Length);
        var data = window.ReadData(expectedLength);
        window.State = PacketHeader.ClientActive;
        return data;
    }

    /// <summary>
    /// Takes windows in ring order from window 0, each full but the last, until <paramref name="expected"/>
    /// has arrived, and checks it arrived whole and in order; returns the window that comes next.
    /// </summary>
    public async Task<int> TakeInOrderAsync(byte[] expected)
    {
        var received = new List<byte>();
        var window = 0;
        while (received.Count < expected.Length)
        {
            received.AddRange(await TakeAsync(window, Math.Min(Chunk, expected.Length - received.Count)));
            window = (window + 1) % Windows;
        }

        Assert.Equal(expected, received.ToArray());
        return window;
    }

    /// <summary>
    /// Whether any page past a window's first (its header's) is allocated in the memory file
    /// (<c>SEEK_DATA</c> finds one). Looks only at the descriptor: touching the mappings would
    /// allocate pages again.
    /// </summary>
    public bool WindowDataHasPages()
    {
        const int SeekEnd = 2;
        const int SeekData = 3;
        var page = Environment.SystemPageSize;
        var end = LibC.Lseek(_file.FileDescriptor, 0, SeekEnd);
        for (var window = _offset; window + WindowBytes <= end; window += WindowBytes)
        {
            var data = LibC.Lseek(_file.FileDescriptor, window + page, SeekData);
            if (data >= 0 && data < window + WindowBytes)
            {
                return true;
            }
        }

        return false;
    }

    /// <summary>Ends the server's link at once (no graceful close with a peer that may hold every window); returns once its windows are unmapped.</summary>
    public async Task CloseServedAsync()
    {
        Served.Abort();
        await Served.DisposeAsync().AsTask().WaitAsync(s_timeout);
    }

    public async ValueTask DisposeAsync()
    {
        if (Served is not null)
        {
            await CloseServedAsync();
        }

        await _listener.DisposeAsync();
        foreach (var window in ToClient)
        {
            window.Dispose();
        }

        _toServer.Dispose();
        _file.Dispose();
        _socket.Dispose();
    }
}
