using System.Collections.Concurrent;
using System.Net;
using System.Net.Sockets;
using System.Threading.Channels;

namespace RpcGen.Links;

/// <summary>Opens links by address: <c>tcp://HOST:PORT</c>, <c>unix:PATH</c> or <c>memory:NAME</c>.</summary>
public static class RpcLinks
{
    private static readonly ConcurrentDictionary<string, MemoryListener> s_memoryListeners = new(StringComparer.Ordinal);

    /// <summary>Connects to <paramref name="address"/>.</summary>
    /// <exception cref="RpcException">With <see cref="RpcStatusCode.Disconnected"/> when nothing listens there.</exception>
    public static async ValueTask<RpcLink> ConnectAsync(string address, RpcLimits? limits = null, CancellationToken cancellationToken = default)
    {
        var parsed = RpcAddress.Parse(address);
        limits ??= RpcLimits.Default;
        switch (parsed.Scheme)
        {
            case RpcAddressScheme.Memory:
                if (!s_memoryListeners.TryGetValue(parsed.Path, out var listener))
                {
                    throw new RpcException(RpcStatusCode.Disconnected, $"Nothing listens on {address}.");
                }

                return listener.Connect(limits.MaxPendingBytes);

            case RpcAddressScheme.Unix:
            {
                var socket = new Socket(AddressFamily.Unix, SocketType.Stream, ProtocolType.Unspecified);
                try
                {
                    await socket.ConnectAsync(new UnixDomainSocketEndPoint(parsed.Path), cancellationToken).ConfigureAwait(false);
                }
                catch (SocketException ex)
                {
                    socket.Dispose();
                    var why = File.Exists(parsed.Path) || Directory.Exists(parsed.Path) ? ex.Message : $"the socket file {parsed.Path} does not exist";
                    throw new RpcException(RpcStatusCode.Disconnected, $"Cannot connect to {address}: {why}", ex);
                }

                return new SocketLink(socket, "unix:" + parsed.Path + "#client", parsed.ToString(), limits.MaxPendingBytes);
            }

            default:
            {
                var socket = new Socket(SocketType.Stream, ProtocolType.Tcp);
                try
                {
                    await socket.ConnectAsync(parsed.Host, parsed.Port, cancellationToken).ConfigureAwait(false);
                }
                catch (SocketException ex)
                {
                    socket.Dispose();
                    throw new RpcException(RpcStatusCode.Disconnected, $"Cannot connect to {address}: {ex.Message}", ex);
                }

                return new SocketLink(socket, FormatTcp(socket.LocalEndPoint), parsed.ToString(), limits.MaxPendingBytes);
            }
        }
    }

    /// <summary>Starts listening on <paramref name="address"/>. For TCP, port 0 picks a free port; read it from <see cref="RpcLinkListener.Address"/>.</summary>
    public static RpcLinkListener Listen(string address, RpcLimits? limits = null)
    {
        var parsed = RpcAddress.Parse(address);
        limits ??= RpcLimits.Default;
        switch (parsed.Scheme)
        {
            case RpcAddressScheme.Memory:
            {
                var listener = new MemoryListener(parsed.Path);
                if (!s_memoryListeners.TryAdd(parsed.Path, listener))
                {
                    throw new InvalidOperationException($"Something already listens on {address}.");
                }

                return listener;
            }

            case RpcAddressScheme.Unix:
            {
                UnixSocketPath.ClaimForListening(parsed.Path);
                var socket = new Socket(AddressFamily.Unix, SocketType.Stream, ProtocolType.Unspecified);
                socket.Bind(new UnixDomainSocketEndPoint(parsed.Path));
                socket.Listen(512);
                return new SocketListener(socket, "unix:" + parsed.Path, limits.MaxPendingBytes, parsed.Path);
            }

            default:
            {
                var ip = parsed.Host == "localhost" ? IPAddress.Loopback : IPAddress.Parse(parsed.Host);
                var socket = new Socket(ip.AddressFamily, SocketType.Stream, ProtocolType.Tcp);
                socket.Bind(new IPEndPoint(ip, parsed.Port));
                socket.Listen(512);
                return new SocketListener(socket, FormatTcp(socket.LocalEndPoint), limits.MaxPendingBytes, unixPath: null);
            }
        }
    }

    /// <summary>Creates a connected pair of in-memory links without a listener.</summary>
    public static (RpcLink Client, RpcLink Server) CreateMemoryPair(string name = "pair", RpcLimits? limits = null) =>
        MemoryLink.CreatePair(name, (limits ?? RpcLimits.Default).MaxPendingBytes);

    private static string FormatTcp(EndPoint? endPoint) => endPoint switch
    {
        IPEndPoint { AddressFamily: AddressFamily.InterNetworkV6 } ip => $"tcp://[{ip.Address}]:{ip.Port}",
        IPEndPoint ip => $"tcp://{ip.Address}:{ip.Port}",
        _ => "tcp://?",
    };

    private sealed class SocketListener(Socket socket, string address, int maxPendingBytes, string? unixPath) : RpcLinkListener
    {
        public override string Address => address;

        public override async ValueTask<RpcLink?> AcceptAsync(CancellationToken cancellationToken = default)
        {
            try
            {
                var accepted = await socket.AcceptAsync(cancellationToken).ConfigureAwait(false);
                var remote = unixPath is null ? FormatTcp(accepted.RemoteEndPoint) : address + "#peer";
                return new SocketLink(accepted, address, remote, maxPendingBytes);
            }
            catch (Exception ex) when (ex is ObjectDisposedException or SocketException { SocketErrorCode: SocketError.OperationAborted or SocketError.Interrupted })
            {
                return null;
            }
        }

        public override ValueTask DisposeAsync()
        {
            socket.Dispose();
            if (unixPath is not null)
            {
                try
                {
                    File.Delete(unixPath);
                }
                catch (IOException)
                {
                    // Someone else removed or replaced it; nothing of ours to clean.
                }
            }

            return default;
        }
    }

    private sealed class MemoryListener(string name) : RpcLinkListener
    {
        private readonly Channel<RpcLink> _pending = Channel.CreateUnbounded<RpcLink>();

        public override string Address => "memory:" + name;

        public RpcLink Connect(int maxPendingBytes)
        {
            var (client, server) = MemoryLink.CreatePair(name, maxPendingBytes);
            if (!_pending.Writer.TryWrite(server))
            {
                throw new RpcException(RpcStatusCode.Disconnected, $"Nothing listens on {Address}.");
            }

            return client;
        }

        public override async ValueTask<RpcLink?> AcceptAsync(CancellationToken cancellationToken = default)
        {
            try
            {
                return await _pending.Reader.ReadAsync(cancellationToken).ConfigureAwait(false);
            }
            catch (ChannelClosedException)
            {
                return null;
            }
        }

        public override ValueTask DisposeAsync()
        {
            s_memoryListeners.TryRemove(new KeyValuePair<string, MemoryListener>(name, this));
            _pending.Writer.TryComplete();
            return default;
        }
    }
}
