using System.Net;
using System.Net.Sockets;
using RpcGen.Benchmarks.Harness;

namespace RpcGen.Benchmarks.Bulk;

/// <summary>
/// A loopback TCP relay that counts the bytes it forwards each way, to see what a transfer really
/// put on the wire (whether compression happened). It adds a hop, so nothing timed goes through it.
/// </summary>
public sealed class CountingRelay : IAsyncDisposable
{
    private readonly Socket _listener;
    private readonly EndPoint _target;
    private readonly Task _accepting;
    private readonly List<Socket> _sockets = [];
    private readonly List<Task> _pumps = [];
    private long _towardTarget;
    private long _fromTarget;

    private CountingRelay(EndPoint target)
    {
        _target = target;
        _listener = Loopback.Listen(LinkKind.Tcp, "bulk-relay", out var endPoint);
        Address = $"tcp://127.0.0.1:{((IPEndPoint)endPoint).Port}";
        _accepting = AcceptLoopAsync();
    }

    /// <summary>Where a client connects instead of the target.</summary>
    public string Address { get; }

    /// <summary>Bytes forwarded from clients to the target (the upload direction).</summary>
    public long BytesTowardTarget => Interlocked.Read(ref _towardTarget);

    /// <summary>Bytes forwarded from the target to clients (the download direction).</summary>
    public long BytesFromTarget => Interlocked.Read(ref _fromTarget);

    /// <summary>Relays to the server at <paramref name="address"/> (<c>tcp://127.0.0.1:port</c>).</summary>
    public static CountingRelay Start(string address) =>
        new(new IPEndPoint(IPAddress.Loopback, new Uri(address).Port));

    public async ValueTask DisposeAsync()
    {
        _listener.Dispose();
        await _accepting.ConfigureAwait(false);
        Task[] pumps;
        lock (_sockets)
        {
            foreach (var socket in _sockets)
            {
                socket.Dispose();
            }

            pumps = [.. _pumps];
        }

        await Task.WhenAll(pumps).ConfigureAwait(false);
    }

    private async Task AcceptLoopAsync()
    {
        while (true)
        {
            Socket client;
            try
            {
                client = await _listener.AcceptAsync().ConfigureAwait(false);
            }
            catch (Exception ex) when (ex is SocketException or ObjectDisposedException)
            {
                return;
            }

            client.NoDelay = true;
            var server = await Loopback.ConnectAsync(_target).ConfigureAwait(false);
            lock (_sockets)
            {
                _sockets.Add(client);
                _sockets.Add(server);
                _pumps.Add(PumpAsync(client, server, towardTarget: true));
                _pumps.Add(PumpAsync(server, client, towardTarget: false));
            }
        }
    }

    private async Task PumpAsync(Socket from, Socket to, bool towardTarget)
    {
        var buffer = new byte[BulkOptions.ChunkBytes];
        try
        {
            int read;
            while ((read = await from.ReceiveAsync(buffer, SocketFlags.None).ConfigureAwait(false)) > 0)
            {
                Interlocked.Add(ref towardTarget ? ref _towardTarget : ref _fromTarget, read);
                for (var sent = 0; sent < read;)
                {
                    sent += await to.SendAsync(buffer.AsMemory(sent, read - sent), SocketFlags.None).ConfigureAwait(false);
                }
            }

            to.Shutdown(SocketShutdown.Send);
        }
        catch (Exception ex) when (ex is SocketException or ObjectDisposedException)
        {
            // One side closed; the other pump or the disposal ends the rest.
        }
    }
}
