using System.Buffers;
using System.IO.Pipelines;
using System.Net.Sockets;
using Microsoft.Extensions.Logging;
using RpcGen.Links;

namespace RpcGen.Transport.SharedMemory;

/// <summary>
/// A byte-stream <see cref="RpcLink"/> over two packet windows, one per direction, so any protocol
/// (message, Cap'n Proto) runs over shared memory unchanged.
/// <list type="bullet">
/// <item>Window 0 carries client→server bytes, window 1 server→client. In each window the writer takes
/// flipcall's client role (initially active) and the reader the server role. A datagram is a chunk of
/// the stream (at most one window); the reader answers each with an empty datagram, the
/// acknowledgement that gives the window back; an empty datagram from the writer is the end of the
/// stream (a graceful close).</item>
/// <item>Sending runs inline on the thread that flushes <see cref="Output"/>: copy into the window,
/// hand off, and wake our own receiver if it sleeps, so it spins for the reply. The next chunk waits
/// for the acknowledgement (spin, then futex) at most <see cref="SharedMemoryOptions.PeerResponseTimeout"/>.</item>
/// <item>Receiving runs on a dedicated thread (it blocks in the futex): copy the datagram out once,
/// acknowledge, then flush into <see cref="Input"/>, where the protocol parses the copy, never the
/// shared bytes.</item>
/// <item>The rendezvous socket carries nothing after the hello; its hang-up (the peer closed or died)
/// shuts both windows down, which wakes every waiter here, so pending reads and flushes end with
/// <see cref="RpcStatusCode.Disconnected"/> at once.</item>
/// </list>
/// Disposal order: shut both endpoints down (which wakes every waiter) and close the socket; wait for
/// the window handshake, the receiver thread, the sender and the socket watcher to stop; detach both
/// endpoints (no shutdown write after that); then unmap. Nothing touches the mapping after it is unmapped.
/// </summary>
internal sealed class SharedMemoryLink : RpcLink
{
    private readonly Socket _socket;
    private readonly SharedMapping _mapping;
    private readonly SharedMemoryEndpoint _sendWindow;
    private readonly SharedMemoryEndpoint _receiveWindow;
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

    // Set once the peer's end-of-stream datagram arrived: a shutdown after it is a normal close.
    private volatile bool _peerFinished;

    // Why the link failed, for the error every pending reader and writer sees; first cause wins.
    private string? _failure;

    private unsafe SharedMemoryLink(Socket socket, SharedMapping mapping, int windowBytes, bool isServer, SharedMemoryOptions options, RpcLinkContext context, string localAddress, string remoteAddress)
    {
        _socket = socket;
        _mapping = mapping;
        _logger = context.Logger;
        _peerTimeout = options.PeerResponseTimeout;
        _handshakeTimeout = context.Limits.HandshakeTimeout;
        LocalAddress = localAddress;
        RemoteAddress = remoteAddress;
        PeerIdentity = PeerCredentials.TryRead(socket);
        var clientToServer = mapping.Address;
        var serverToClient = mapping.Address + windowBytes;
        _sendWindow = new SharedMemoryEndpoint(SharedMemoryEndpointSide.Client, isServer ? serverToClient : clientToServer, windowBytes, options);
        _receiveWindow = new SharedMemoryEndpoint(SharedMemoryEndpointSide.Server, isServer ? clientToServer : serverToClient, windowBytes, options);

        var maxPending = context.Limits.MaxPendingBytes;
        _inbound = new Pipe(new PipeOptions(pauseWriterThreshold: maxPending, resumeWriterThreshold: maxPending / 2, readerScheduler: PipeScheduler.Inline, writerScheduler: PipeScheduler.Inline, useSynchronizationContext: false));
        var outboundPause = Math.Min(maxPending, 1024 * 1024);
        _outbound = new Pipe(new PipeOptions(pauseWriterThreshold: outboundPause, resumeWriterThreshold: outboundPause / 2, readerScheduler: PipeScheduler.Inline, writerScheduler: PipeScheduler.Inline, useSynchronizationContext: false));

        var receiver = new Thread(ReceiveLoop) { IsBackground = true, Name = "rpcgen-shm-receive" };
        receiver.Start();
        // The window handshake blocks in the endpoint (spin, then futex), so it gets a thread of its own.
        _handshake = Task.Factory.StartNew(() => _sendWindow.Connect(_handshakeTimeout), CancellationToken.None, TaskCreationOptions.LongRunning, TaskScheduler.Default);
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
    /// Builds the link over a mapped window pair and completes the window handshake: our sending
    /// window's <see cref="SharedMemoryEndpoint.Connect"/> returns once the peer's receiver answered,
    /// within <see cref="RpcLimits.HandshakeTimeout"/>. Takes ownership of the socket and mapping.
    /// </summary>
    public static async Task<SharedMemoryLink> EstablishAsync(Socket socket, SharedMapping mapping, int windowBytes, bool isServer, SharedMemoryOptions options, RpcLinkContext context, string localAddress, string remoteAddress)
    {
        var link = new SharedMemoryLink(socket, mapping, windowBytes, isServer, options, context, localAddress, remoteAddress);
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

        SharedMemoryLog.Connected(context.Logger, localAddress, windowBytes);
        return link;
    }

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
            _receiveWindow.AcceptConnect(_handshakeTimeout);
            while (true)
            {
                var length = _receiveWindow.AcquireControl(Timeout.InfiniteTimeSpan);
                if (length == 0)
                {
                    // End of stream: acknowledge it so the peer's close completes, and stop reading.
                    _peerFinished = true;
                    _receiveWindow.HandOff(0);
                    break;
                }

                // Copy once out of shared memory; the protocol parses only this copy.
                _receiveWindow.Data[..length].CopyTo(writer.GetSpan(length));
                writer.Advance(length);
                _receiveWindow.HandOff(0);
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
            _sendWindow.AcquireControl(_peerTimeout);
            _sendWindow.HandOff(0);
            _sendWindow.AcquireControl(_handshakeTimeout);
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
            _sendWindow.AcquireControl(_peerTimeout);
            var chunk = (int)Math.Min(buffer.Length, _sendWindow.DataCapacity);
            buffer.Slice(0, chunk).CopyTo(_sendWindow.Data);
            _sendWindow.HandOff(chunk);
            _receiveWindow.WakeLocalSleeper();
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

        _sendWindow.Shutdown();
        _receiveWindow.Shutdown();
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
        _sendWindow.Detach();
        _receiveWindow.Detach();
        _mapping.Dispose();
    }
}
