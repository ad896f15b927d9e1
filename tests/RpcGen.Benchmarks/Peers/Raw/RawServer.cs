using System.Buffers.Binary;
using System.Net;
using System.Net.Sockets;
using MessagePack;
using RpcGen.Benchmarks.Contracts;
using RpcGen.Benchmarks.Harness;

namespace RpcGen.Benchmarks.Peers.Raw;

/// <summary>
/// The raw floor's server: accepts connections and answers every frame inline on the connection's
/// receive loop, deserializing the request and serializing the reply with <see cref="RawCodec"/>.
/// </summary>
public sealed class RawServer : IAsyncDisposable
{
    private const int StreamFlushBytes = 32 * 1024;

    private readonly Socket _listener;
    private readonly RawSendMode _mode;
    private readonly Task _accepting;
    private readonly List<Socket> _connections = [];
    private readonly List<Task> _serving = [];

    private RawServer(Socket listener, EndPoint endPoint, RawSendMode mode)
    {
        _listener = listener;
        EndPoint = endPoint;
        _mode = mode;
        _accepting = AcceptLoopAsync();
    }

    /// <summary>Where clients connect.</summary>
    public EndPoint EndPoint { get; }

    /// <summary>Starts listening on a fresh loopback endpoint.</summary>
    public static RawServer Start(LinkKind link, RawSendMode mode)
    {
        var listener = Loopback.Listen(link, "raw", out var endPoint);
        return new RawServer(listener, endPoint, mode);
    }

    public async ValueTask DisposeAsync()
    {
        _listener.Dispose();
        await _accepting.ConfigureAwait(false);
        Task[] serving;
        lock (_connections)
        {
            foreach (var connection in _connections)
            {
                connection.Dispose();
            }

            serving = [.. _serving];
        }

        await Task.WhenAll(serving).ConfigureAwait(false);
        Loopback.DeleteSocketFile(EndPoint);
    }

    private async Task AcceptLoopAsync()
    {
        while (true)
        {
            Socket accepted;
            try
            {
                accepted = await _listener.AcceptAsync().ConfigureAwait(false);
            }
            catch (Exception ex) when (ex is SocketException or ObjectDisposedException)
            {
                return;
            }

            if (accepted.ProtocolType == ProtocolType.Tcp)
            {
                accepted.NoDelay = true;
            }

            lock (_connections)
            {
                _connections.Add(accepted);
                _serving.Add(Task.Run(() => ServeAsync(accepted)));
            }
        }
    }

    private async Task ServeAsync(Socket socket)
    {
        var input = new RawReceiveBuffer();
        var output = new RawBuffer(64 * 1024);
        var minimumFree = 4096;
        try
        {
            while (true)
            {
                var received = await socket.ReceiveAsync(input.GetFreeMemory(minimumFree), SocketFlags.None).ConfigureAwait(false);
                if (received == 0)
                {
                    return;
                }

                input.Received(received);
                minimumFree = 4096;
                while (RawFrame.TryReadHeader(input.Available, out var payloadLength, out var callId, out var method))
                {
                    var frameLength = RawFrame.HeaderSize + payloadLength;
                    if (input.Count < frameLength)
                    {
                        minimumFree = Math.Max(minimumFree, frameLength - input.Count);
                        break;
                    }

                    var payload = input.AvailableMemory.Slice(RawFrame.HeaderSize, payloadLength);
                    input.Consume(frameLength);
                    switch (method)
                    {
                        case RawMethod.StreamItems:
                            await SendAsync(socket, output).ConfigureAwait(false);
                            await StreamItemsAsync(socket, output, callId, BinaryPrimitives.ReadInt32LittleEndian(payload.Span)).ConfigureAwait(false);
                            break;
                        case RawMethod.Upload:
                            await SendAsync(socket, output).ConfigureAwait(false);
                            var total = BinaryPrimitives.ReadInt64LittleEndian(payload.Span);
                            var count = await ReceiveUploadAsync(socket, input, total).ConfigureAwait(false);
                            WriteCount(output, callId, count);
                            await SendAsync(socket, output).ConfigureAwait(false);
                            break;
                        default:
                            WriteReply(output, callId, method, payload);
                            if (_mode == RawSendMode.PerMessage)
                            {
                                await SendAsync(socket, output).ConfigureAwait(false);
                            }

                            break;
                    }
                }

                await SendAsync(socket, output).ConfigureAwait(false);
            }
        }
        catch (Exception ex) when (ex is SocketException or ObjectDisposedException)
        {
            // The client went away; nothing to answer.
        }
        finally
        {
            socket.Dispose();
        }
    }

    private static void WriteReply(RawBuffer output, uint callId, RawMethod method, ReadOnlyMemory<byte> payload)
    {
        var start = output.BeginFrame(callId, method);
        var writer = new MessagePackWriter(output);
        var reader = new MessagePackReader(payload);
        switch (method)
        {
            case RawMethod.Ping:
                break;
            case RawMethod.EchoSmall:
                RawCodec.Write(ref writer, RawCodec.ReadSmall(ref reader));
                break;
            case RawMethod.EchoMessage:
                RawCodec.Write(ref writer, RawCodec.ReadBenchmarkMessage(ref reader));
                break;
            case RawMethod.EchoBytes:
                RawCodec.Write(ref writer, RawCodec.ReadBytes(ref reader));
                break;
            default:
                throw new InvalidDataException($"Unknown raw method {method}.");
        }

        writer.Flush();
        output.EndFrame(start);
    }

    private static async Task StreamItemsAsync(Socket socket, RawBuffer output, uint callId, int count)
    {
        for (var i = 0; i < count; i++)
        {
            WriteItem(output, callId, i);
            if (output.Length >= StreamFlushBytes)
            {
                await SendAsync(socket, output).ConfigureAwait(false);
            }
        }

        output.EndFrame(output.BeginFrame(callId, RawMethod.StreamEnd));
        await SendAsync(socket, output).ConfigureAwait(false);
    }

    private static void WriteItem(RawBuffer output, uint callId, int sequence)
    {
        var start = output.BeginFrame(callId, RawMethod.StreamItems);
        var writer = new MessagePackWriter(output);
        RawCodec.Write(ref writer, new StreamItem { Sequence = sequence, Value = sequence * 3L });
        writer.Flush();
        output.EndFrame(start);
    }

    private static async Task<long> ReceiveUploadAsync(Socket socket, RawReceiveBuffer input, long total)
    {
        var remaining = total;
        var buffered = (int)Math.Min(input.Count, remaining);
        input.Consume(buffered);
        remaining -= buffered;
        while (remaining > 0)
        {
            var memory = input.GetFreeMemory(64 * 1024);
            if (memory.Length > remaining)
            {
                memory = memory[..(int)remaining];
            }

            var received = await socket.ReceiveAsync(memory, SocketFlags.None).ConfigureAwait(false);
            if (received == 0)
            {
                throw new SocketException((int)SocketError.ConnectionReset);
            }

            // The bytes are counted, not kept: the floor of an upload is moving them.
            remaining -= received;
        }

        return total;
    }

    private static void WriteCount(RawBuffer output, uint callId, long count)
    {
        var start = output.BeginFrame(callId, RawMethod.Upload);
        BinaryPrimitives.WriteInt64LittleEndian(output.GetSpan(8), count);
        output.Advance(8);
        output.EndFrame(start);
    }

    internal static async ValueTask SendAsync(Socket socket, RawBuffer output)
    {
        var pending = output.Written;
        while (!pending.IsEmpty)
        {
            var sent = await socket.SendAsync(pending, SocketFlags.None).ConfigureAwait(false);
            pending = pending[sent..];
        }

        output.Reset();
    }
}
