using System.Buffers;
using RpcGen.Logging;

namespace RpcGen.Transport.Message;

/// <summary>
/// The hello exchange that opens every connection, and the keepalive hooks.
/// </summary>
/// <remarks>
/// The client sends its <see cref="FrameKind.Hello"/> as soon as the link is open; the server
/// answers with its own once it has read the client's. Until a side has read the peer's hello,
/// the only other frame it accepts is an <see cref="FrameKind.Abort"/> (a server refusing the
/// connection, or the version), so a peer that speaks something else is stopped at its first frame.
/// </remarks>
internal sealed partial class MessageConnection
{
    /// <summary>The error for a first frame that is not a hello.</summary>
    internal static readonly string FirstFrameNotHello = "The first frame must be a Hello (FrameKind 14): the peer does not speak this protocol version, or skipped the handshake.";

    /// <summary>The error for a hello after the first frame.</summary>
    internal static readonly string SecondHello = "The peer sent a second Hello.";

    // Set by the reader when the peer's hello has been read and accepted; never cleared.
    private bool _peerHelloReceived;

    // The peer's largest accepted payload, from its hello; int.MaxValue until it arrives. Calls
    // larger than this fail here with a clear error instead of making the peer abort the connection.
    private volatile int _peerMaxFrameBytes = int.MaxValue;

    // Completes when the peer's hello arrived (clients wait on it in ConnectAsync).
    private readonly TaskCompletionSource<HelloPayload> _peerHello = new(TaskCreationOptions.RunContinuationsAsynchronously);

    // A client's refusal of the server's version, set by the reader and handed to ConnectAsync only
    // after the abort that tells the server why has been written: ConnectAsync disposes the
    // connection as soon as it sees the refusal, and that close would race the abort off the link.
    // WaitForPeerHelloAsync also reads it, for a connection that closed before the hand-over.
    private RpcException? _versionRefusal;

    // Client connections only: pings a quiet peer and measures round trips. Null on servers (they
    // answer pings and enforce RpcLimits.IdleTimeout instead). Set before Start.
    private KeepAlive? _keepAlive;

    /// <summary>The peer's hello, once it arrived.</summary>
    public Task<HelloPayload> PeerHello => _peerHello.Task;

    /// <summary>Whether new calls may start here: open, and the peer has not said it is going away.</summary>
    public bool AcceptsCalls => _closeReason is null && !_lifecycle.PeerDraining;

    /// <summary>The last measured round-trip time (client connections), or null.</summary>
    public TimeSpan? RoundTripTime => _keepAlive?.RoundTripTime;

    /// <summary>Attaches the client's keepalive; call before <see cref="Start"/>.</summary>
    public void Attach(KeepAlive keepAlive) => _keepAlive = keepAlive;

    /// <summary>Sends this side's hello (the client's first frame, or the server's answer).</summary>
    public void SendHello()
    {
        var frame = FrameBuffer.Rent();
        HelloPayload.For(_limits).Write(frame);
        frame.WriteHeader(new FrameHeader(FrameKind.Hello, 0, frame.PayloadLength, 0, 0, 0, 0));
        _keepAlive?.OnHelloSent();
        var write = WriteFrameAsync(frame);
        if (!write.IsCompletedSuccessfully)
        {
            _ = IgnoreFailure(write);
        }
    }

    /// <summary>Waits until the peer's hello arrived; throws the reason when the connection closed first.</summary>
    public async Task WaitForPeerHelloAsync(CancellationToken cancellationToken)
    {
        await Task.WhenAny(_peerHello.Task, _closed.Task).WaitAsync(cancellationToken).ConfigureAwait(false);
        if (_peerHello.Task.IsFaulted)
        {
            throw _peerHello.Task.Exception!.InnerException!;
        }

        if (!_peerHello.Task.IsCompletedSuccessfully)
        {
            // A refused version is the reason even when the abort's failed write closed the
            // connection first (a peer that reset it), before the reader handed the refusal over.
            throw Volatile.Read(ref _versionRefusal) ?? _closeReason ?? new RpcException(RpcStatusCode.Disconnected, $"The connection to {Peer} closed during the handshake.");
        }
    }

    /// <summary>Refuses every frame but a hello (or an abort) until the peer's hello has arrived. Runs on the reader.</summary>
    private void CheckHandshakeOrder(FrameKind kind)
    {
        if (!_peerHelloReceived && kind is not (FrameKind.Hello or FrameKind.Abort))
        {
            throw new ProtocolViolation(FirstFrameNotHello);
        }
    }

    private void HandleHello(in ReadOnlySequence<byte> payload)
    {
        if (_peerHelloReceived)
        {
            throw new ProtocolViolation(SecondHello);
        }

        if (HelloPayload.TryRead(payload, out var hello) is { } malformed)
        {
            throw new ProtocolViolation(malformed);
        }

        var isServer = _timeouts is not null;
        if (hello.Version != HelloPayload.CurrentVersion)
        {
            var mismatch = isServer
                ? HelloPayload.VersionMismatch(clientVersion: hello.Version, serverVersion: HelloPayload.CurrentVersion)
                : HelloPayload.VersionMismatch(clientVersion: HelloPayload.CurrentVersion, serverVersion: hello.Version);
            if (!isServer)
            {
                // Only a client waits for the peer's hello; a server just aborts.
                Volatile.Write(ref _versionRefusal, new RpcException(RpcStatusCode.ProtocolError, mismatch));
            }

            throw new ProtocolViolation(mismatch);
        }

        _peerHelloReceived = true;
        _peerMaxFrameBytes = hello.MaxFrameBytes;
        if (isServer)
        {
            SendHello();
        }

        _keepAlive?.OnHelloAnswered();
        _peerHello.TrySetResult(hello);
    }

    private void HandlePong(in FrameHeader header)
    {
        if (header.CallId == GoAwayPingSequence && _lifecycle.TryAcknowledgeGoAway())
        {
            return;
        }

        _keepAlive?.OnPong(header.CallId);
    }

    /// <summary>Sends a keepalive ping with <paramref name="sequence"/> in the call-id field.</summary>
    internal void SendPing(uint sequence) => SendControl(FrameKind.Ping, sequence);

    /// <summary>Closes the connection because the peer stopped answering pings.</summary>
    internal void CloseAsDead(string reason)
    {
        RpcLog.ConnectionTimedOut(Logger, Id, Peer, reason);
        _ = CloseAsync(new RpcException(RpcStatusCode.Disconnected, reason));
    }
}
