using System.Net.Security;
using System.Net.Sockets;
using System.Threading.Channels;
using Microsoft.Extensions.Logging;
using RpcGen.Limits;
using RpcGen.Security;

namespace RpcGen.Links;

/// <summary>What every server-side TLS handshake of one listener shares.</summary>
internal sealed record TlsServerContext(RpcTlsOptions Options, SslStreamCertificateContext Certificate, RpcKnownKeys? KnownKeys, ILogger Logger, TimeSpan Timeout);

/// <summary>
/// A TLS listener (<c>tls://</c> or <c>tls+unix:</c>): its own loop accepts sockets and runs each
/// handshake concurrently, so a slow client never holds up the next one; a link is handed to
/// <see cref="AcceptAsync"/> only once its handshake succeeded.
/// </summary>
/// <remarks>
/// What handshakes can hold is bounded before any connection exists: each must finish within
/// <see cref="RpcLimits.HandshakeTimeout"/> (measured on the server's <see cref="TimeProvider"/>; at
/// the deadline its socket is closed, however slowly the client drips bytes), and at most
/// <see cref="RpcLimits.MaxConnections"/> handshakes in all and
/// <see cref="RpcLimits.MaxConnectionsPerAddress"/> per remote IP run at once; a socket beyond that is
/// closed at once with a log line. Garbage instead of a ClientHello fails the handshake at once.
/// </remarks>
internal sealed class TlsListener : RpcLinkListener
{
    private readonly Socket _socket;
    private readonly string? _unixPath;
    private readonly TlsServerContext _context;
    private readonly RpcLimits _limits;
    private readonly TimeProvider _time;
    private readonly ConnectionAdmission _handshaking;
    private readonly Channel<RpcLink> _ready = Channel.CreateUnbounded<RpcLink>();
    private readonly CancellationTokenSource _closing = new();
    private readonly Task _accepting;

    public TlsListener(Socket socket, string address, string? unixPath, TlsServerContext context, RpcLimits limits, TimeProvider time)
    {
        _socket = socket;
        Address = address;
        _unixPath = unixPath;
        _context = context;
        _limits = limits;
        _time = time;
        _handshaking = new ConnectionAdmission(limits);
        _accepting = AcceptLoopAsync();
    }

    public override string Address { get; }

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
        _closing.Cancel();
        _socket.Dispose();
        await _accepting.ConfigureAwait(false);
        _ready.Writer.TryComplete();
        while (_ready.Reader.TryRead(out var unclaimed))
        {
            unclaimed.Abort();
        }

        if (_unixPath is not null)
        {
            try
            {
                File.Delete(_unixPath);
            }
            catch (IOException)
            {
                // Someone else removed or replaced it; nothing of ours to clean.
            }
        }
    }

    private async Task AcceptLoopAsync()
    {
        await Task.Yield();
        while (!_closing.IsCancellationRequested)
        {
            Socket accepted;
            try
            {
                accepted = await _socket.AcceptAsync(_closing.Token).ConfigureAwait(false);
            }
            catch (Exception ex) when (ex is ObjectDisposedException or OperationCanceledException or SocketException { SocketErrorCode: SocketError.OperationAborted or SocketError.Interrupted })
            {
                break;
            }
            catch (SocketException ex)
            {
                if (!await AcceptBackoff.ContinueAfterAsync(ex, _context.Logger, Address, _closing.Token).ConfigureAwait(false))
                {
                    break;
                }

                continue;
            }

            var remote = _unixPath is null ? RpcLinks.FormatTls(accepted.RemoteEndPoint) : Address + "#peer";
            if (!_handshaking.TryAdmit(_unixPath is null ? RpcLinks.FormatTcp(accepted.RemoteEndPoint) : remote, out var refusal))
            {
                TlsLog.HandshakeNotStarted(_context.Logger, remote, "too many handshakes in progress: " + refusal);
                accepted.Dispose();
                continue;
            }

            _ = HandshakeAsync(accepted, remote);
        }
    }

    private async Task HandshakeAsync(Socket accepted, string remote)
    {
        var admissionKey = _unixPath is null ? RpcLinks.FormatTcp(accepted.RemoteEndPoint) : remote;
        var holdsSlot = true;
        try
        {
            if (accepted.ProtocolType == ProtocolType.Tcp)
            {
                accepted.NoDelay = true;
            }

            using var timeout = CancellationTokenSource.CreateLinkedTokenSource(_closing.Token);
            using var timer = _context.Timeout == Timeout.InfiniteTimeSpan
                ? null
                : _time.CreateTimer(static state => ((CancellationTokenSource)state!).Cancel(), timeout, _context.Timeout, Timeout.InfiniteTimeSpan);
            TlsLog.HandshakeStarted(_context.Logger, remote, _context.Timeout);
            var link = await TlsHandshake.AcceptAsync(accepted, Address, remote, _context, _limits.MaxPendingBytes, timeout.Token).ConfigureAwait(false);

            // The handshake is over: free its slot before the server sees the link. Freed after, a
            // client the server answered at once could connect again (or a second client from the
            // same address could) while the slot was still taken, and be hung up on without a reason.
            holdsSlot = false;
            _handshaking.Release(admissionKey);
            if (link is not null && !_ready.Writer.TryWrite(link))
            {
                link.Abort();
            }
        }
        catch (Exception ex)
        {
            // Nothing a client sends may stop the listener: whatever escaped closes this socket only.
            TlsLog.HandshakeFailed(_context.Logger, remote, ex.Message);
            accepted.Dispose();
        }
        finally
        {
            if (holdsSlot)
            {
                _handshaking.Release(admissionKey);
            }
        }
    }
}
