using System.Net;
using System.Net.Sockets;

namespace RpcGen.Fuzz.Seeds;

/// <summary>
/// A loopback TCP relay that records what a real client and server say to each other, so seeds are
/// captures of real conversations rather than hand-made bytes. One connection at a time; the
/// recording of each direction is whole once the relay is disposed.
/// </summary>
internal sealed class CapturingRelay : IAsyncDisposable
{
    private readonly TcpListener _listener = new(IPAddress.Loopback, 0);
    private readonly IPEndPoint _target;
    private readonly MemoryStream _toServer = new();
    private readonly MemoryStream _toClient = new();
    private readonly List<Task> _pumps = [];
    private readonly CancellationTokenSource _stop = new();
    private readonly Task _accepting;

    public CapturingRelay(IPEndPoint target)
    {
        _target = target;
        _listener.Start();
        _accepting = AcceptAsync();
    }

    /// <summary>The address a client dials instead of the server's.</summary>
    public string Address => $"tcp://127.0.0.1:{((IPEndPoint)_listener.LocalEndpoint).Port}";

    /// <summary>Everything the client sent.</summary>
    public byte[] ClientToServer => _toServer.ToArray();

    /// <summary>Everything the server sent.</summary>
    public byte[] ServerToClient => _toClient.ToArray();

    /// <summary>Parses <c>tcp://host:port</c>.</summary>
    public static IPEndPoint EndPointOf(string address)
    {
        var uri = new Uri(address);
        return new IPEndPoint(IPAddress.Parse(uri.Host), uri.Port);
    }

    private async Task AcceptAsync()
    {
        try
        {
            while (true)
            {
                var client = await _listener.AcceptTcpClientAsync(_stop.Token).ConfigureAwait(false);
                var server = new TcpClient();
                await server.ConnectAsync(_target, _stop.Token).ConfigureAwait(false);
                lock (_pumps)
                {
                    _pumps.Add(PumpAsync(client, server, _toServer));
                    _pumps.Add(PumpAsync(server, client, _toClient));
                }
            }
        }
        catch (OperationCanceledException)
        {
        }
    }

    private static async Task PumpAsync(TcpClient from, TcpClient to, MemoryStream record)
    {
        var buffer = new byte[16 * 1024];
        try
        {
            var source = from.GetStream();
            var sink = to.GetStream();
            while (true)
            {
                var read = await source.ReadAsync(buffer).ConfigureAwait(false);
                if (read == 0)
                {
                    break;
                }

                lock (record)
                {
                    record.Write(buffer, 0, read);
                }

                await sink.WriteAsync(buffer.AsMemory(0, read)).ConfigureAwait(false);
            }
        }
        catch (Exception ex) when (ex is IOException or SocketException or ObjectDisposedException)
        {
            // The other side closed first; the recording up to here is what was said.
        }
        finally
        {
            try
            {
                to.Client.Shutdown(SocketShutdown.Send);
            }
            catch (Exception ex) when (ex is SocketException or ObjectDisposedException)
            {
                // Already gone.
            }
        }
    }

    /// <summary>Stops accepting and waits until both sides of every relayed connection have closed. Idempotent.</summary>
    public async ValueTask DisposeAsync()
    {
        if (_stop.IsCancellationRequested)
        {
            return;
        }

        _stop.Cancel();
        _listener.Stop();
        await _accepting.ConfigureAwait(false);
        Task[] pumps;
        lock (_pumps)
        {
            pumps = [.. _pumps];
        }

        await Task.WhenAll(pumps).WaitAsync(TimeSpan.FromSeconds(30)).ConfigureAwait(false);
    }
}
