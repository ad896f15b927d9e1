using System.Buffers;
using System.IO.Pipelines;
using System.Net.Sockets;
using Microsoft.Extensions.Logging;
using RpcGen.Links;

namespace RpcGen.Transport.SharedMemory;

/// <summary>
/// A byte-stream <see cref="RpcLink"/> over a ring of K packet windows per direction
/// (<see cref="SharedMemoryOptions.WindowsPerDirection"/>), so any protocol (message, Cap'n Proto)
/// runs over shared memory unchanged.
/// <list type="bullet">
/// <item>Windows 0..K-1 carry client→server bytes, K..2K-1 server→client. In each window the writer
/// takes flipcall's client role (initially active) and the reader the server role. A datagram is a
/// chunk of the stream (at most one window); the reader answers each with an empty datagram, the
/// acknowledgement that gives the window back; an empty datagram from the writer is the end of the
/// stream (a graceful close). Only window 0 of each direction runs flipcall's connect handshake; the
/// others start (zero-filled) with the writer in control.</item>
/// <item>Order without sequence numbers or locks: each direction has one writer and one reader, the
/// writer fills windows strictly in ring order and the reader drains them in the same order, so the
/// chunks arrive as they were written. The writer reuses a window only once its acknowledgement is
/// back, so up to K chunks are in flight; with all K taken it waits for the oldest (spin, then futex)
/// at most <see cref="SharedMemoryOptions.PeerResponseTimeout"/>. Writers queue in the outbound pipe in
/// the order they flushed, so waiting for the pool is fair by construction.</item>
/// <item>Sending runs inline on the thread that flushes <see cref="Output"/>: copy into the window,
/// hand off, and wake our own receiver if it sleeps and its spinning has lately paid, so it spins for
/// the reply (see <see cref="SharedMemoryEndpoint.WakeLocalSleeper"/>).</item>
/// <item>Receiving runs on a dedicated thread (it blocks in the futex): copy each datagram out once
/// and acknowledge it, take every further window the peer has already filled (up to K) the same way,
/// then flush the batch into <see cref="Input"/> once, where the protocol parses the copy, never the
/// shared bytes.</item>
/// <item>The rendezvous socket carries nothing after the hello; its hang-up (the peer closed or died)
/// shuts both windows down, which wakes every waiter here, so pending reads and flushes end with
/// <see cref="RpcStatusCode.Disconnected"/> at once.</item>
/// </list>
/// Disposal order: shut every endpoint down (which wakes every waiter) and close the socket; wait for
/// the window handshake, the receiver thread, the sender and the socket watcher to stop; detach every
/// endpoint (no shutdown write after that); then unmap. Nothing touches the mapping after it is unmapped.
/// </summary>
internal sealed class SharedMemoryLink : RpcLink
{
    private readonly Socket _socket;
    private readonly SharedMapping _mapping;
    private readonly SharedMemoryEndpoint[] _sendWindows;
    private readonly SharedMemoryEndpoint[] _receiveWindows;
    private readonly Pipe _inbound;
    private readonly Pipe _outbound;
    private readonly ILogger _logger;
    private readonly TimeSpan _peerTimeout;
    private readonly TimeSpan _handshakeTimeout;
    private readonly TaskCompletionSource _receiverStopped = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private readonly Task _handshake;
    private readonly Task _sending;
    private readonly Task _watching;
    private readonly Task _closed;
    private int _aborted;

    // The next send window in ring order. Valid from construction; read and written only by the one
    // sender (the outbound pipe has a single reader), never by two threads at once.
    private int _sendNext;

    // The receive window the receiver waits on now, so a sender can wake exactly that one. Written by
    // the receiver thread only; a stale read costs at most a wake the peer's hand-off then gives.
    private volatile int _receiveNext;

    // Set once the peer's end-of-stream datagram arrived: a shutdown after it is a normal close.
    private volatile bool _peerFinished;

    // Why the link failed, for the error every pending reader and writer sees; first cause wins.
    private string? _failure;

    private unsafe SharedMemoryLink(Socket socket, SharedMapping mapping, SharedMemoryOptions options, bool isServer, RpcLinkContext context, string localAddress, string remoteAddress)
    {
        _socket = socket;
        _mapping = mapping;
        _logger = context.Logger;
        _peerTimeout = options.PeerResponseTimeout;
        _handshakeTimeout = context.Limits.HandshakeTimeout;
        LocalAddress = localAddress;
        RemoteAddress = remoteAddress;
        PeerIdentity = PeerCredentials.TryRead(socket);
        var windowBytes = options.WindowBytes;
        var count = options.WindowsPerDirection;
        var clientToServer = mapping.Address;
        var serverToClient = mapping.Address + ((long)count * windowBytes);
        var sending = isServer ? serverToClient : clientToServer;
        var receiving = isServer ? clientToServer : serverToClient;
        _sendWindows = new SharedMemoryEndpoint[count];
        _receiveWindows = new SharedMemoryEndpoint[count];
        for (var i = 0; i < count; i++)
        {
            _sendWindows[i] = new SharedMemoryEndpoint(SharedMemoryEndpointSide.Client, sending + ((long)i * windowBytes), windowBytes, options);
            _receiveWindows[i] = new SharedMemoryEndpoint(SharedMemoryEndpointSide.Server, receiving + ((long)i * windowBytes), windowBytes, options);
        }

        var maxPending = context.Limits.MaxPendingBytes;
        _inbound = new Pipe(new PipeOptions(pauseWriterThreshold: maxPending, resumeWriterThreshold: maxPending / 2, readerScheduler: PipeScheduler.Inline, writerScheduler: PipeScheduler.Inline, useSynchronizationContext: false));
        var outboundPause = Math.Min(maxPending, 1024 * 1024);
        _outbound = new Pipe(new PipeOptions(pauseWriterThreshold: outboundPause, resumeWriterThreshold: outboundPause / 2, readerScheduler: PipeScheduler.Inline, writerScheduler: PipeScheduler.Inline, useSynchronizationContext: false));

        var receiver = new Thread(ReceiveLoop) { IsBackground = true, Name = "rpcgen-shm-receive" };
        receiver.Start();
        // The window handshake blocks in the endpoint (spin, then futex), so it gets a thread of its own.
        _handshake = Task.Factory.StartNew(() => _sendWindows[0].Connect(_handshakeTimeout), CancellationToken.None, TaskCreationOptions.LongRunning, TaskScheduler.Default);
        _sending = SendLoopAsync();
        _watching = WatchSocketAsync();
        _closed = CloseWhenStoppedAsync();
    }

    public override PipeReader Input => _inbound.Reader;

    public override PipeWriter Output => _outbound.Writer;

    public override string LocalAddress { get; }

    public override string RemoteAddress { get; }

    public override RpcGen.Security.RpcPeerIdentity? PeerIdentity { get; }

    /// <summary>
    /// Builds the link over the 2K mapped windows (<see cref="SharedMemoryOptions.WindowBytes"/> and
    /// <see cref="SharedMemoryOptions.WindowsPerDirection"/> of <paramref name="options"/>) and completes
    /// the window handshake: our first sending window's <see cref="SharedMemoryEndpoint.Connect"/>
    /// returns once the peer's receiver answered, within <see cref="RpcLimits.HandshakeTimeout"/>.
    /// Takes ownership of the socket and mapping.
    /// </summary>
    public static async Task<SharedMemoryLink> EstablishAsync(Socket socket, SharedMapping mapping, SharedMemoryOptions options, bool isServer, RpcLinkContext context, string localAddress, string remoteAddress)
    {
        // The caller mapped exactly the 2K windows the options describe (validated from the hello on a client).
        var link = new SharedMemoryLink(socket, mapping, options, isServer, context, localAddress, remoteAddress);

        try
        {
            await link._handshake.ConfigureAwait(false);
        }
        catch (Exception ex)
        {
            link.Fail($"the window handshake failed: {ex.Message}");
            await link._closed.ConfigureAwait(false);
            throw new RpcException(RpcStatusCode.Disconnected, $"The shared-memory handshake with {remoteAddress} failed: {ex.Message}", ex);
        }

        SharedMemoryLog.Connected(context.Logger, localAddress, options.WindowsPerDirection, options.WindowBytes);
        return link;
    }

    /// <summary>Completes once everything has stopped and the windows are unmapped.</summary>
    internal Task Closed => _closed;

    public override void Abort() => Fail("the link was aborted");

    public override async ValueTask DisposeAsync()
    {
        // Completing our end of the outbound pipe lets the sender drain, send the end of the stream
        // and wait for its acknowledgement; then everything stops.
        await _outbound.Writer.CompleteAsync().ConfigureAwait(false);
        await _sending.ConfigureAwait(false);
        Stop();
        await _closed.ConfigureAwait(false);
    }

    // ---------------------------------------------------------------- receiving

    private void ReceiveLoop()
    {
        Exception? error = null;
        var writer = _inbound.Writer;
        try
        {
            _receiveWindows[0].AcceptConnect(_handshakeTimeout);
            var next = 0;
            var finished = false;
            while (!finished)
            {
                _receiveNext = next;
                var window = _receiveWindows[next];
                var length = window.AcquireControl(Timeout.InfiniteTimeSpan);

                // Take this datagram and every later one the peer has already handed over, in ring
                // order (at most one lap, so a fast writer cannot keep this thread from flushing).
                for (var taken = 1; ; taken++)
                {
                    if (length == 0)
                    {
                        // End of stream: acknowledge it so the peer's close completes, and stop reading.
                        _peerFinished = true;
                        window.HandOff(0);
                        finished = true;
                        break;
                    }

                    // Copy once out of shared memory; the protocol parses only this copy.
                    window.Data[..length].CopyTo(writer.GetSpan(length));
                    writer.Advance(length);
                    window.HandOff(0);
                    next = next + 1 == _receiveWindows.Length ? 0 : next + 1;
                    window = _receiveWindows[next];
                    if (taken == _receiveWindows.Length || !window.TryAcquireControl(out length))
                    {
                        break;
                    }
                }

                var flush = writer.FlushAsync();
                var result = flush.IsCompleted ? flush.Result : flush.AsTask().GetAwaiter().GetResult();
                if (result.IsCompleted || result.IsCanceled)
                {
                    break;
                }
            }
        }
        catch (Exception ex)
        {
            if (!(_peerFinished && ex is SharedMemoryShutdownException))
            {
                Fail(ex is SharedMemoryShutdownException ? "the peer shut the windows down" : ex.Message);
                error = new RpcException(RpcStatusCode.Disconnected, $"The shared-memory link to {RemoteAddress} was lost: {_failure}", ex);
            }
        }

        writer.Complete(error);
        _receiverStopped.TrySetResult();
    }

    // ---------------------------------------------------------------- sending

    private async Task SendLoopAsync()
    {
        await Task.Yield();
        var reader = _outbound.Reader;
        Exception? error = null;
        try
        {
            while (true)
            {
                var result = await reader.ReadAsync().ConfigureAwait(false);
                try
                {
                    SendAll(result.Buffer);
                }
                finally
                {
                    reader.AdvanceTo(result.Buffer.End);
                }

                if (result.IsCanceled)
                {
                    throw new RpcException(RpcStatusCode.Disconnected, "The link was aborted.");
                }

                if (result.IsCompleted)
                {
                    break;
                }
            }

            // Graceful close: the empty datagram is the end of the stream; wait (bounded) for the
            // peer to take it so it sees the end rather than a shutdown.
            var last = _sendWindows[_sendNext];
            last.AcquireControl(_peerTimeout);
            last.HandOff(0);
            last.AcquireControl(_handshakeTimeout);
        }
        catch (Exception ex)
        {
            error = ex as RpcException ?? new RpcException(RpcStatusCode.Disconnected, $"Sending to {RemoteAddress} failed: {ex.Message}", ex);
            Fail(_failure ?? ex.Message);
        }

        await reader.CompleteAsync(error).ConfigureAwait(false);
    }

    private void SendAll(ReadOnlySequence<byte> buffer)
    {
        while (!buffer.IsEmpty)
        {
            // Waits only when all K windows are still with the reader: this one is the oldest.
            var window = _sendWindows[_sendNext];
            window.AcquireControl(_peerTimeout);
            var chunk = (int)Math.Min(buffer.Length, window.DataCapacity);
            buffer.Slice(0, chunk).CopyTo(window.Data);
            window.HandOff(chunk);
            _sendNext = _sendNext + 1 == _sendWindows.Length ? 0 : _sendNext + 1;
            _receiveWindows[_receiveNext].WakeLocalSleeper();
            buffer = buffer.Slice(chunk);
        }
    }

    // ---------------------------------------------------------------- liveness and shutdown

    private async Task WatchSocketAsync()
    {
        var probe = new byte[1];
        try
        {
            // Nothing is sent after the hello: any return (end of stream, a byte, an error) means the
            // peer is gone or misbehaving.
            await _socket.ReceiveAsync(probe, SocketFlags.None).ConfigureAwait(false);
        }
        catch (Exception ex) when (ex is SocketException or ObjectDisposedException)
        {
        }

        if (Volatile.Read(ref _aborted) == 0)
        {
            SharedMemoryLog.PeerHungUp(_logger, LocalAddress);
            Fail("the peer hung up (closed or died)");
        }
    }

    /// <summary>Records <paramref name="reason"/> (the first wins) and stops everything; pending reads and flushes fail with <see cref="RpcStatusCode.Disconnected"/>.</summary>
    private void Fail(string reason)
    {
        if (Interlocked.CompareExchange(ref _failure, reason, null) is null && !_peerFinished && Volatile.Read(ref _aborted) == 0)
        {
            SharedMemoryLog.Failed(_logger, LocalAddress, reason);
        }

        Stop();
    }

    private void Stop()
    {
        if (Interlocked.Exchange(ref _aborted, 1) != 0)
        {
            return;
        }

        foreach (var window in _sendWindows)
        {
            window.Shutdown();
        }

        foreach (var window in _receiveWindows)
        {
            window.Shutdown();
        }

        _socket.Dispose();
        _inbound.Writer.CancelPendingFlush();
        _outbound.Reader.CancelPendingRead();
    }

    private async Task CloseWhenStoppedAsync()
    {
        // Every thread that can touch the windows must be done before they are unmapped: the
        // handshake, the receiver, the sender (which runs inline in callers' flushes) and the watcher.
        await _handshake.ContinueWith(static _ => { }, CancellationToken.None, TaskContinuationOptions.ExecuteSynchronously, TaskScheduler.Default).ConfigureAwait(false);
        await _receiverStopped.Task.ConfigureAwait(false);
        await _sending.ConfigureAwait(false);
        await _watching.ConfigureAwait(false);
        foreach (var window in _sendWindows)
        {
            window.Detach();
        }

        foreach (var window in _receiveWindows)
        {
            window.Detach();
        }

        _mapping.Dispose();
    }
}
