using System.Buffers.Binary;
using System.Net;
using System.Net.Sockets;
using MessagePack;
using RpcGen.Benchmarks.Contracts;
using RpcGen.Benchmarks.Harness;

namespace RpcGen.Benchmarks.Peers.Raw;

/// <summary>
/// The raw floor's client: multiplexes calls from any number of callers over one socket. Each call
/// serializes into a pooled slot, is sent (per message or coalesced) and completes when the receive
/// loop reads the reply with the slot's id. No allocation of its own on the common path.
/// </summary>
public sealed class RawClient : IAsyncDisposable
{
    private readonly Socket _socket;
    private readonly RawSendMode _mode;
    private readonly Lock _slotGate = new();
    private readonly List<RawCallSlot> _slots = [];

    // A copy of _slots the receive loop reads without locking; replaced whenever a slot is added.
    private volatile RawCallSlot[] _slotsById = [];
    private readonly Stack<RawCallSlot> _free = new();
    private readonly SemaphoreSlim _sendLock = new(1, 1);
    private readonly Lock _coalesceGate = new();
    private readonly Task _receiving;

    // Coalesced mode: callers append to _pending; the one that finds no send in flight becomes the
    // sender and keeps sending until _pending is empty. _flushing is true while someone sends.
    private RawBuffer _pending = new(64 * 1024);
    private RawBuffer _spare = new(64 * 1024);
    private bool _flushing;

    // Coalesced mode: true while the receive loop completes a batch of replies. The callers it
    // resumes (inline, on the loop's thread) only append their next request; the loop sends them all
    // with one system call when the batch is done. Without this, callers resumed one after another
    // on one thread would each find no send in flight and send alone.
    private bool _corked;

    private RawClient(Socket socket, RawSendMode mode)
    {
        _socket = socket;
        _mode = mode;
        _receiving = Task.Run(ReceiveLoopAsync);
    }

    /// <summary>Connects to a <see cref="RawServer"/>.</summary>
    public static async Task<RawClient> ConnectAsync(EndPoint endPoint, RawSendMode mode)
    {
        var socket = await Loopback.ConnectAsync(endPoint).ConfigureAwait(false);
        return new RawClient(socket, mode);
    }

    public ValueTask<object?> PingAsync()
    {
        var slot = Rent();
        slot.Request.EndFrame(slot.Request.BeginFrame(slot.Id, RawMethod.Ping));
        Send(slot);
        return new ValueTask<object?>(slot, slot.Version);
    }

    public ValueTask<SmallMessage> EchoSmallAsync(SmallMessage request)
    {
        var slot = Rent();
        var start = slot.Request.BeginFrame(slot.Id, RawMethod.EchoSmall);
        var writer = new MessagePackWriter(slot.Request);
        RawCodec.Write(ref writer, request);
        writer.Flush();
        slot.Request.EndFrame(start);
        Send(slot);
        return new ValueTask<SmallMessage>(slot, slot.Version);
    }

    public ValueTask<BenchmarkMessage> EchoMessageAsync(BenchmarkMessage request)
    {
        var slot = Rent();
        var start = slot.Request.BeginFrame(slot.Id, RawMethod.EchoMessage);
        var writer = new MessagePackWriter(slot.Request);
        RawCodec.Write(ref writer, request);
        writer.Flush();
        slot.Request.EndFrame(start);
        Send(slot);
        return new ValueTask<BenchmarkMessage>(slot, slot.Version);
    }

    public ValueTask<byte[]> EchoBytesAsync(byte[] request)
    {
        var slot = Rent();
        var start = slot.Request.BeginFrame(slot.Id, RawMethod.EchoBytes);
        var writer = new MessagePackWriter(slot.Request);
        RawCodec.Write(ref writer, request);
        writer.Flush();
        slot.Request.EndFrame(start);
        Send(slot);
        return new ValueTask<byte[]>(slot, slot.Version);
    }

    /// <summary>Asks for <paramref name="count"/> items and completes with the number received (each is decoded).</summary>
    public async Task<long> StreamItemsAsync(int count)
    {
        var slot = Rent();
        var start = slot.Request.BeginFrame(slot.Id, RawMethod.StreamItems);
        BinaryPrimitives.WriteInt32LittleEndian(slot.Request.GetSpan(4), count);
        slot.Request.Advance(4);
        slot.Request.EndFrame(start);
        Send(slot);
        return (long)(await new ValueTask<object?>(slot, slot.Version).ConfigureAwait(false))!;
    }

    /// <summary>
    /// Sends <paramref name="total"/> bytes (repeating <paramref name="chunk"/>) after one header frame
    /// and completes with the count the server acknowledges. Must be the only call in flight.
    /// </summary>
    public async Task<long> UploadAsync(long total, byte[] chunk)
    {
        var slot = Rent();
        var start = slot.Request.BeginFrame(slot.Id, RawMethod.Upload);
        BinaryPrimitives.WriteInt64LittleEndian(slot.Request.GetSpan(8), total);
        slot.Request.Advance(8);
        slot.Request.EndFrame(start);
        var reply = new ValueTask<object?>(slot, slot.Version);
        await SendAllAsync(slot.Request.Written).ConfigureAwait(false);
        for (var remaining = total; remaining > 0;)
        {
            var size = (int)Math.Min(chunk.Length, remaining);
            await SendAllAsync(chunk.AsMemory(0, size)).ConfigureAwait(false);
            remaining -= size;
        }

        return (long)(await reply.ConfigureAwait(false))!;
    }

    public async ValueTask DisposeAsync()
    {
        try
        {
            _socket.Shutdown(SocketShutdown.Both);
        }
        catch (SocketException)
        {
            // Already closed by the peer.
        }

        _socket.Dispose();
        await _receiving.ConfigureAwait(false);
        _sendLock.Dispose();
    }

    internal void Return(RawCallSlot slot)
    {
        lock (_slotGate)
        {
            _free.Push(slot);
        }
    }

    private RawCallSlot Rent()
    {
        lock (_slotGate)
        {
            if (_free.TryPop(out var slot))
            {
                return slot;
            }

            slot = new RawCallSlot(this, (uint)_slots.Count);
            _slots.Add(slot);
            _slotsById = [.. _slots];
            return slot;
        }
    }

    private void Send(RawCallSlot slot)
    {
        if (_mode == RawSendMode.Coalesced)
        {
            lock (_coalesceGate)
            {
                _pending.Append(slot.Request.Written.Span);
                if (_flushing || _corked)
                {
                    return;
                }

                _flushing = true;
            }

            Flush();
            return;
        }

        if (_sendLock.Wait(0))
        {
            var frame = slot.Request.Written;
            var sending = _socket.SendAsync(frame, SocketFlags.None);
            if (sending.IsCompletedSuccessfully && sending.Result == frame.Length)
            {
                _sendLock.Release();
                return;
            }

            _ = FinishLockedSendAsync(slot, sending, frame);
            return;
        }

        _ = SendContendedAsync(slot);
    }

    private async Task FinishLockedSendAsync(RawCallSlot slot, ValueTask<int> sending, ReadOnlyMemory<byte> frame)
    {
        try
        {
            var sent = await sending.ConfigureAwait(false);
            await SendAllAsync(frame[sent..]).ConfigureAwait(false);
        }
        catch (Exception ex) when (ex is SocketException or ObjectDisposedException)
        {
            slot.SetException(ex);
        }
        finally
        {
            _sendLock.Release();
        }
    }

    private async Task SendContendedAsync(RawCallSlot slot)
    {
        await _sendLock.WaitAsync().ConfigureAwait(false);
        try
        {
            await SendAllAsync(slot.Request.Written).ConfigureAwait(false);
        }
        catch (Exception ex) when (ex is SocketException or ObjectDisposedException)
        {
            slot.SetException(ex);
        }
        finally
        {
            _sendLock.Release();
        }
    }

    private void Cork()
    {
        if (_mode == RawSendMode.Coalesced)
        {
            lock (_coalesceGate)
            {
                _corked = true;
            }
        }
    }

    private void Uncork()
    {
        if (_mode != RawSendMode.Coalesced)
        {
            return;
        }

        lock (_coalesceGate)
        {
            _corked = false;
            if (_flushing || _pending.Length == 0)
            {
                return;
            }

            _flushing = true;
        }

        Flush();
    }

    private void Flush()
    {
        while (true)
        {
            RawBuffer batch;
            lock (_coalesceGate)
            {
                if (_pending.Length == 0)
                {
                    _flushing = false;
                    return;
                }

                batch = _pending;
                _pending = _spare;
                _spare = batch;
            }

            var bytes = batch.Written;
            var sending = _socket.SendAsync(bytes, SocketFlags.None);
            if (!sending.IsCompletedSuccessfully || sending.Result != bytes.Length)
            {
                _ = FinishFlushAsync(sending, batch);
                return;
            }

            batch.Reset();
        }
    }

    private async Task FinishFlushAsync(ValueTask<int> sending, RawBuffer batch)
    {
        var sent = await sending.ConfigureAwait(false);
        await SendAllAsync(batch.Written[sent..]).ConfigureAwait(false);
        batch.Reset();
        Flush();
    }

    private async ValueTask SendAllAsync(ReadOnlyMemory<byte> bytes)
    {
        while (!bytes.IsEmpty)
        {
            var sent = await _socket.SendAsync(bytes, SocketFlags.None).ConfigureAwait(false);
            bytes = bytes[sent..];
        }
    }

    private async Task ReceiveLoopAsync()
    {
        var input = new RawReceiveBuffer();
        var minimumFree = 4096;
        Exception? failure = null;
        try
        {
            while (true)
            {
                var received = await _socket.ReceiveAsync(input.GetFreeMemory(minimumFree), SocketFlags.None).ConfigureAwait(false);
                if (received == 0)
                {
                    break;
                }

                input.Received(received);
                minimumFree = 4096;
                Cork();
                try
                {
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
                        Complete(SlotFor(callId), method, payload);
                    }
                }
                finally
                {
                    Uncork();
                }
            }
        }
        catch (Exception ex) when (ex is SocketException or ObjectDisposedException or InvalidDataException)
        {
            failure = ex;
        }

        FailOutstanding(failure ?? new SocketException((int)SocketError.ConnectionReset));
    }

    private RawCallSlot SlotFor(uint callId)
    {
        var slots = _slotsById;
        if (callId >= (uint)slots.Length)
        {
            throw new InvalidDataException($"The server answered unknown call {callId}.");
        }

        return slots[callId];
    }

    private static void Complete(RawCallSlot slot, RawMethod method, ReadOnlyMemory<byte> payload)
    {
        var reader = new MessagePackReader(payload);
        switch (method)
        {
            case RawMethod.Ping:
                slot.SetResult(null);
                break;
            case RawMethod.EchoSmall:
                slot.SetResult(RawCodec.ReadSmall(ref reader));
                break;
            case RawMethod.EchoMessage:
                slot.SetResult(RawCodec.ReadBenchmarkMessage(ref reader));
                break;
            case RawMethod.EchoBytes:
                slot.SetResult(RawCodec.ReadBytes(ref reader));
                break;
            case RawMethod.StreamItems:
                _ = RawCodec.ReadStreamItem(ref reader);
                slot.StreamedItems++;
                break;
            case RawMethod.StreamEnd:
                slot.SetResult(slot.StreamedItems);
                break;
            case RawMethod.Upload:
                slot.SetResult(BinaryPrimitives.ReadInt64LittleEndian(payload.Span));
                break;
            default:
                throw new InvalidDataException($"Unknown raw method {method}.");
        }
    }

    private void FailOutstanding(Exception error)
    {
        RawCallSlot[] all;
        HashSet<RawCallSlot> idle;
        lock (_slotGate)
        {
            all = [.. _slots];
            idle = [.. _free];
        }

        foreach (var slot in all)
        {
            if (!idle.Contains(slot) && slot.GetStatus(slot.Version) == System.Threading.Tasks.Sources.ValueTaskSourceStatus.Pending)
            {
                slot.SetException(error);
            }
        }
    }
}
