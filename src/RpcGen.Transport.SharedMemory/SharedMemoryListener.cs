using System.Net.Sockets;
using System.Threading.Channels;
using Microsoft.Extensions.Logging;
using RpcGen.Limits;
using RpcGen.Links;

namespace RpcGen.Transport.SharedMemory;

/// <summary>
/// Listens on a Unix socket for shared-memory clients. Each accepted client gets its own memory file
/// with 2K windows, K per direction (<see cref="SharedMemoryOptions.WindowsPerDirection"/>; so no client can see or touch another's bytes), the file's descriptor over
/// <c>SCM_RIGHTS</c>, and the window handshake; only links whose rendezvous completed within
/// <see cref="RpcLimits.HandshakeTimeout"/> are handed out, and a slow or hostile client delays nobody
/// else (each rendezvous runs on its own). Every client holds its memory file and mapping from
/// the moment it is accepted until its link is closed, rendezvous in progress and links handed out
/// alike, so the listener counts them together: at most <see cref="RpcLimits.MaxConnections"/> clients
/// and <see cref="SharedMemoryOptions.MaxServerMappedBytes"/> of windows at once; a client beyond
/// either is hung up on at once with a log line. Disposal stops accepting and removes the socket
/// file; links already handed out stay open.
/// </summary>
internal sealed class SharedMemoryListener : RpcLinkListener
{
    private readonly Socket _socket;
    private readonly string _path;
    private readonly SharedMemoryOptions _options;
    private readonly RpcLinkContext _context;
    private readonly Channel<RpcLink> _ready = Channel.CreateUnbounded<RpcLink>();
    private readonly CancellationTokenSource _stopping = new();
    private readonly Task _accepting;
    private readonly int _maxClients;

    // Clients accepted whose memory is not released yet: rendezvous in progress and open links.
    private int _held;

    public SharedMemoryListener(string path, SharedMemoryOptions options, RpcLinkContext context)
    {
        _path = path;
        _options = options;
        _context = context;
        Address = SharedMemoryLinkProvider.Scheme + ":" + path;
        _maxClients = (int)Math.Min(context.Limits.MaxConnections, options.MaxServerMappedBytes / options.ConnectionMappedBytes);
        UnixSocketPath.ClaimForListening(path);
        _socket = new Socket(AddressFamily.Unix, SocketType.Stream, ProtocolType.Unspecified);
        _socket.Bind(new UnixDomainSocketEndPoint(path));
        _socket.Listen(512);
        _accepting = AcceptLoopAsync();
    }

    public override string Address { get; }

    /// <summary>Clients whose memory file this listener holds now (rendezvous in progress and open links).</summary>
    internal int HeldClients => Volatile.Read(ref _held);

    /// <summary>Bytes of windows this listener's clients hold now.</summary>
    internal long MappedBytes => HeldClients * _options.ConnectionMappedBytes;

    /// <summary>Links established and not yet taken by <see cref="AcceptAsync"/> (internal for tests).</summary>
    internal int UnclaimedLinks => _ready.Reader.Count;

    public override async ValueTask<RpcLink?> AcceptAsync(CancellationToken cancellationToken = default)
    {
        try
        {
            return await _ready.Reader.ReadAsync(cancellationToken).ConfigureAwait(false);
        }
        catch (ChannelClosedException)
        {
            return null;
        }
    }

    public override async ValueTask DisposeAsync()
    {
        _stopping.Cancel();
        _socket.Dispose();
        await _accepting.ConfigureAwait(false);
        _ready.Writer.TryComplete();

        // Links established but never accepted are nobody's: end them (their clients see the hang-up),
        // or each keeps its receiving thread, socket and windows until its client goes away.
        // A rendezvous still running finds the channel completed and disposes its link itself.
        while (_ready.Reader.TryRead(out var unclaimed))
        {
            unclaimed.Abort();
        }

        try
        {
            File.Delete(_path);
        }
        catch (IOException)
        {
            // Someone else removed or replaced it; nothing of ours to clean.
        }

        _stopping.Dispose();
    }

    private async Task AcceptLoopAsync()
    {
        while (true)
        {
            Socket accepted;
            try
            {
                accepted = await _socket.AcceptAsync(_stopping.Token).ConfigureAwait(false);
            }
            catch (Exception ex) when (ex is ObjectDisposedException or OperationCanceledException or SocketException { SocketErrorCode: SocketError.OperationAborted or SocketError.Interrupted })
            {
                return;
            }
            catch (SocketException ex)
            {
                // Out of descriptors, say (a peer can push the process there by opening
                // connections): back off and accept again once some are back, as the other
                // listeners do, rather than never accept another client.
                if (!await AcceptBackoff.ContinueAfterAsync(ex, _context.Logger, Address, _stopping.Token).ConfigureAwait(false))
                {
                    return;
                }

                continue;
            }

            if (Interlocked.Increment(ref _held) > _maxClients)
            {
                Interlocked.Decrement(ref _held);
                SharedMemoryLog.ClientRefused(_context.Logger, Address, $"{_maxClients} clients already hold their windows ({_options.ConnectionMappedBytes} bytes each; RpcLimits.MaxConnections {_context.Limits.MaxConnections}, SharedMemoryOptions.MaxServerMappedBytes {_options.MaxServerMappedBytes})");
                accepted.Dispose();
                continue;
            }

            _ = RendezvousAsync(accepted);
        }
    }

    private async Task RendezvousAsync(Socket accepted)
    {
        SharedMapping? mapping = null;
        SharedMemoryLink? link = null;
        try
        {
            // One file per client: its descriptor reaches the client, so it must hold nothing else.
            var windows = 2 * (_options.WindowsPerDirection + SharedMemoryOptions.LaneWindowsPerDirection);
            using (var allocator = new PacketWindowAllocator(windows, _options.WindowBytes))
            {
                allocator.TryAllocateRange(windows, out var range);
                mapping = SharedMapping.Map(range);
                Rendezvous.SendHello(accepted, allocator.FileDescriptor, _options.WindowBytes, _options.WindowsPerDirection, range.Offset);
            }

            link = await SharedMemoryLink.EstablishAsync(accepted, mapping, _options, isServer: true, _context, Address, Address + "#peer").ConfigureAwait(false);

            // The client's slot is given back when its windows are unmapped, however its link ends.
            _ = link.Closed.ContinueWith(static (_, state) => ((SharedMemoryListener)state!).Release(), this, CancellationToken.None, TaskContinuationOptions.ExecuteSynchronously, TaskScheduler.Default);
            if (!_ready.Writer.TryWrite(link))
            {
                await link.DisposeAsync().ConfigureAwait(false);
            }
        }
        catch (Exception ex)
        {
            // EstablishAsync owns (and has released) the socket and mapping once it was called.
            if (ex is not RpcException)
            {
                accepted.Dispose();
                mapping?.Dispose();
            }

            // Released before the log line, so a line seen means the slot is free. Once the link
            // exists, its closing releases the slot instead.
            if (link is null)
            {
                Release();
            }

            SharedMemoryLog.RendezvousFailed(_context.Logger, Address, ex.Message);
        }
    }

    private void Release()
    {
        var held = Interlocked.Decrement(ref _held);
        SharedMemoryLog.ClientReleased(_context.Logger, Address, held, held * _options.ConnectionMappedBytes);
    }
}
