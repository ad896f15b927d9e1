using System.Buffers.Binary;
using System.Net;
using System.Net.Sockets;
using RpcGen.Benchmarks.Harness;

namespace RpcGen.Benchmarks.Bulk;

/// <summary>
/// The floor for bulk transfer: a plain loopback TCP socket copying the same bytes in the same 64 KiB
/// chunks, with only what a transfer needs: a 9-byte request (direction, length) and, for uploads,
/// an 8-byte count back. The sender writes slices of one pre-filled chunk; the receiver reads into
/// one 64 KiB buffer and drops it.
/// </summary>
public sealed class RawSocketCopy : IBulkPeer
{
    private const byte DownloadOp = (byte)'D';
    private const byte UploadOp = (byte)'U';

    private readonly byte[] _chunk;
    private readonly byte[] _buffer = new byte[BulkOptions.ChunkBytes];
    private readonly byte[] _header = new byte[9];
    private readonly Socket _listener;
    private readonly Socket _client;
    private readonly Task _serving;

    private RawSocketCopy(byte[] chunk, Socket listener, Socket client, Task serving)
    {
        _chunk = chunk;
        _listener = listener;
        _client = client;
        _serving = serving;
    }

    public static async Task<RawSocketCopy> StartAsync(byte[] chunk)
    {
        var listener = Loopback.Listen(LinkKind.Tcp, "bulk-raw", out var endPoint);
        try
        {
            var accepting = listener.AcceptAsync();
            var client = await Loopback.ConnectAsync(endPoint).ConfigureAwait(false);
            var server = await accepting.ConfigureAwait(false);
            server.NoDelay = true;
            return new RawSocketCopy(chunk, listener, client, ServeAsync(server, chunk));
        }
        catch
        {
            listener.Dispose();
            throw;
        }
    }

    public async Task<long> DownloadAsync(long bytes)
    {
        await SendRequestAsync(DownloadOp, bytes).ConfigureAwait(false);
        return await DrainAsync(_client, bytes, _buffer).ConfigureAwait(false);
    }

    public async Task<long> UploadAsync(long bytes)
    {
        await SendRequestAsync(UploadOp, bytes).ConfigureAwait(false);
        await SendRepeatedAsync(_client, _chunk, bytes).ConfigureAwait(false);
        await ReceiveExactlyAsync(_client, _buffer.AsMemory(0, sizeof(long))).ConfigureAwait(false);
        return BinaryPrimitives.ReadInt64LittleEndian(_buffer);
    }

    public async ValueTask DisposeAsync()
    {
        _client.Shutdown(SocketShutdown.Both);
        _client.Dispose();
        await _serving.ConfigureAwait(false);
        _listener.Dispose();
    }

    private async Task SendRequestAsync(byte op, long bytes)
    {
        _header[0] = op;
        BinaryPrimitives.WriteInt64LittleEndian(_header.AsSpan(1), bytes);
        await SendAllAsync(_client, _header).ConfigureAwait(false);
    }

    private static async Task ServeAsync(Socket connection, byte[] chunk)
    {
        var buffer = new byte[BulkOptions.ChunkBytes];
        try
        {
            while (await TryReceiveExactlyAsync(connection, buffer.AsMemory(0, 9)).ConfigureAwait(false))
            {
                var bytes = BinaryPrimitives.ReadInt64LittleEndian(buffer.AsSpan(1, 8));
                if (buffer[0] == DownloadOp)
                {
                    await SendRepeatedAsync(connection, chunk, bytes).ConfigureAwait(false);
                }
                else
                {
                    var received = await DrainAsync(connection, bytes, buffer).ConfigureAwait(false);
                    BinaryPrimitives.WriteInt64LittleEndian(buffer, received);
                    await SendAllAsync(connection, buffer.AsMemory(0, sizeof(long))).ConfigureAwait(false);
                }
            }
        }
        catch (SocketException)
        {
            // The client went away mid-transfer; its side reports the failure.
        }
        finally
        {
            connection.Dispose();
        }
    }

    private static async Task SendRepeatedAsync(Socket socket, byte[] chunk, long bytes)
    {
        for (var remaining = bytes; remaining > 0;)
        {
            var count = (int)Math.Min(remaining, chunk.Length);
            await SendAllAsync(socket, chunk.AsMemory(0, count)).ConfigureAwait(false);
            remaining -= count;
        }
    }

    private static async Task SendAllAsync(Socket socket, ReadOnlyMemory<byte> data)
    {
        while (!data.IsEmpty)
        {
            var sent = await socket.SendAsync(data, SocketFlags.None).ConfigureAwait(false);
            data = data[sent..];
        }
    }

    private static async Task<long> DrainAsync(Socket socket, long bytes, byte[] buffer)
    {
        long received = 0;
        while (received < bytes)
        {
            var read = await socket.ReceiveAsync(buffer.AsMemory(0, (int)Math.Min(bytes - received, buffer.Length)), SocketFlags.None).ConfigureAwait(false);
            if (read == 0)
            {
                break;
            }

            received += read;
        }

        return received;
    }

    private static async Task ReceiveExactlyAsync(Socket socket, Memory<byte> buffer)
    {
        if (!await TryReceiveExactlyAsync(socket, buffer).ConfigureAwait(false))
        {
            throw new EndOfStreamException("The raw copy's server closed the connection.");
        }
    }

    // False when the peer closed the connection before the first byte.
    private static async Task<bool> TryReceiveExactlyAsync(Socket socket, Memory<byte> buffer)
    {
        var total = 0;
        while (total < buffer.Length)
        {
            var read = await socket.ReceiveAsync(buffer[total..], SocketFlags.None).ConfigureAwait(false);
            if (read == 0)
            {
                return total == 0 ? false : throw new EndOfStreamException("The connection closed inside a message.");
            }

            total += read;
        }

        return true;
    }
}
