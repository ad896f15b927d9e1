using System.Net;
using System.Net.Sockets;

namespace RpcGen.Benchmarks.Harness;

/// <summary>Listening and connecting sockets on this machine only (127.0.0.1 or a Unix socket path).</summary>
public static class Loopback
{
    private static int s_counter;

    /// <summary>A fresh Unix socket path owned by this process.</summary>
    public static string NewUnixSocketPath(string peer) =>
        Path.Combine(Path.GetTempPath(), $"rpcgen-bench-{peer}-{Environment.ProcessId}-{Interlocked.Increment(ref s_counter)}.sock");

    /// <summary>Binds and listens; for TCP the port is chosen by the system.</summary>
    public static Socket Listen(LinkKind link, string peer, out EndPoint endPoint)
    {
        Socket socket;
        if (link == LinkKind.Uds)
        {
            var path = NewUnixSocketPath(peer);
            socket = new Socket(AddressFamily.Unix, SocketType.Stream, ProtocolType.Unspecified);
            socket.Bind(new UnixDomainSocketEndPoint(path));
        }
        else
        {
            socket = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
            socket.Bind(new IPEndPoint(IPAddress.Loopback, 0));
        }

        socket.Listen(64);
        endPoint = socket.LocalEndPoint!;
        return socket;
    }

    /// <summary>Connects to <paramref name="endPoint"/>; TCP sockets get Nagle off.</summary>
    public static async Task<Socket> ConnectAsync(EndPoint endPoint)
    {
        var socket = endPoint is UnixDomainSocketEndPoint
            ? new Socket(AddressFamily.Unix, SocketType.Stream, ProtocolType.Unspecified)
            : new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp) { NoDelay = true };
        await socket.ConnectAsync(endPoint).ConfigureAwait(false);
        return socket;
    }

    /// <summary>Removes the socket file of a Unix endpoint.</summary>
    public static void DeleteSocketFile(EndPoint endPoint)
    {
        if (endPoint is UnixDomainSocketEndPoint && endPoint.ToString() is { Length: > 0 } path && File.Exists(path))
        {
            File.Delete(path);
        }
    }
}
