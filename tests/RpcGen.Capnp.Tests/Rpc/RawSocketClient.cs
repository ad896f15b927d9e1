using System.Buffers;
using System.Net.Sockets;

namespace RpcGen.Capnp.Tests.Rpc;

/// <summary>
/// A misbehaving client on a real socket: it writes rpc.capnp frames (built with <see cref="RawPeer"/>'s
/// helpers) or raw bytes, reads only when told to, and sees how the server ends the connection.
/// </summary>
internal sealed class RawSocketClient : IDisposable
{
    private static readonly TimeSpan Timeout = TimeSpan.FromSeconds(15);
    private readonly CapnpFrameReader _frames = new();
    private readonly byte[] _receiveBuffer = new byte[64 * 1024];
    private byte[] _pending = [];

    private RawSocketClient(Socket socket) => Socket = socket;

    public Socket Socket { get; }

    /// <summary>Connects to a server's <c>tcp://HOST:PORT</c>; <paramref name="receiveBufferBytes"/> shrinks the kernel's receive buffer (a client that will not read).</summary>
    public static async Task<RawSocketClient> ConnectAsync(string address, int? receiveBufferBytes = null)
    {
        var hostAndPort = address["tcp://".Length..];
        var colon = hostAndPort.LastIndexOf(':');
        var socket = new Socket(SocketType.Stream, ProtocolType.Tcp) { NoDelay = true };
        if (receiveBufferBytes is { } size)
        {
            socket.ReceiveBufferSize = size;
        }

        await socket.ConnectAsync(hostAndPort[..colon], int.Parse(hostAndPort[(colon + 1)..])).WaitAsync(Timeout);
        return new RawSocketClient(socket);
    }

    public async Task SendAsync(byte[] bytes, CancellationToken cancellationToken = default)
    {
        var sent = 0;
        while (sent < bytes.Length)
        {
            sent += await Socket.SendAsync(bytes.AsMemory(sent), SocketFlags.None, cancellationToken);
        }
    }

    /// <summary>The next message, or null when the server closed the connection (or reset it).</summary>
    public async Task<(ushort Which, StructReader Body)?> ReceiveAsync()
    {
        while (true)
        {
            if (_pending.Length > 0)
            {
                var sequence = new ReadOnlySequence<byte>(_pending);
                var complete = _frames.TryRead(ref sequence, out var message);
                _pending = sequence.ToArray();
                if (complete)
                {
                    var root = message!.GetRoot();
                    return (root.ReadUInt16(RpcSchema.Message.Which), root.ReadStruct(RpcSchema.Message.Body));
                }
            }

            int received;
            try
            {
                received = await Socket.ReceiveAsync(_receiveBuffer.AsMemory(), SocketFlags.None).AsTask().WaitAsync(Timeout);
            }
            catch (SocketException)
            {
                return null;
            }

            if (received == 0)
            {
                return null;
            }

            _pending = [.. _pending, .. _receiveBuffer.AsSpan(0, received)];
        }
    }

    /// <summary>Skips messages until one of kind <paramref name="which"/>.</summary>
    public async Task<StructReader> ReceiveAsync(ushort which)
    {
        while (true)
        {
            var next = await ReceiveAsync() ?? throw new EndOfStreamException("The server closed the connection.");
            if (next.Which == which)
            {
                return next.Body;
            }
        }
    }

    /// <summary>Reads until the server closes the connection; returns the reason of the abort it sent first (null if none).</summary>
    public async Task<string?> ExpectClosedAsync()
    {
        string? reason = null;
        while (await ReceiveAsync() is { } message)
        {
            if (message.Which == RpcSchema.Message.Abort)
            {
                reason = message.Body.ReadText(RpcSchema.Exception.Reason);
            }
        }

        return reason;
    }

    /// <summary>Bootstrap (question <paramref name="questionId"/>) and wait for its Return: the server has accepted and registered this connection.</summary>
    public async Task BootstrapAsync(uint questionId = 0)
    {
        await SendAsync(RawPeer.BootstrapFrame(questionId));
        await ReceiveAsync(RpcSchema.Message.Return);
    }

    public void Dispose() => Socket.Dispose();
}
