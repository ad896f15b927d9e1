using System.IO.Pipelines;

namespace RpcGen.Links;

/// <summary>
/// A bidirectional byte link between two peers, exposed as an <see cref="IDuplexPipe"/>: protocols
/// read frames from <see cref="IDuplexPipe.Input"/> and write to <see cref="IDuplexPipe.Output"/>.
/// Bytes written by many callers between two reads of the sender are sent together, which is where
/// write coalescing comes from.
/// </summary>
public abstract class RpcLink : IDuplexPipe, IAsyncDisposable
{
    /// <inheritdoc />
    public abstract PipeReader Input { get; }

    /// <inheritdoc />
    public abstract PipeWriter Output { get; }

    /// <summary>This end's address.</summary>
    public abstract string LocalAddress { get; }

    /// <summary>The other end's address.</summary>
    public abstract string RemoteAddress { get; }

    /// <summary>
    /// Who the other end is, when the link could establish it: the certificate a TLS link verified,
    /// the <c>SO_PEERCRED</c> credentials of a Unix socket. Null when the link knows nothing beyond
    /// <see cref="RemoteAddress"/>.
    /// </summary>
    public virtual RpcGen.Security.RpcPeerIdentity? PeerIdentity => null;

    /// <summary>
    /// How long a thread that waits for the next step of a call over this link (a lone caller for
    /// its answer, a connection's handler worker for its next call) spins before it parks and lets
    /// the answer wake it. Zero (the default) never spins: over a socket the answer's own system
    /// calls cost more than the wake they would save. A link whose hand-offs cost well under a
    /// thread wake (shared memory) returns its spin budget, so a call's answer is caught by a
    /// thread that is still running instead of one the kernel must wake.
    /// </summary>
    public virtual TimeSpan HandOffSpin => TimeSpan.Zero;

    /// <summary>
    /// Starts a polling session on the calling thread: until <see cref="EndPolling"/>, this thread
    /// calls <see cref="TryPollInput"/> while it spins for the next frame, so the link's own receiving
    /// thread may stand back (and not be woken for every frame). Returns false when the link cannot
    /// poll (the default); then neither <see cref="TryPollInput"/> nor <see cref="EndPolling"/> is called.
    /// </summary>
    public virtual bool BeginPolling() => false;

    /// <summary>
    /// Moves whatever the peer has already sent into <see cref="Input"/> on the calling thread, without
    /// waiting; the protocol's reader (scheduled inline) may then parse it on this thread, so a
    /// protocol that polls must never run user code on its reader. Returns whether anything moved;
    /// false too when another thread is moving input right now.
    /// </summary>
    public virtual bool TryPollInput() => false;

    /// <summary>
    /// Ends a session <see cref="BeginPolling"/> started. <paramref name="framesExpected"/> true when
    /// the poller stopped before what it waited for arrived (so the link's receiving thread must watch
    /// again at once); false when it got it, which lets the link wake its receiving thread lazily.
    /// </summary>
    public virtual void EndPolling(bool framesExpected)
    {
    }

    /// <summary>
    /// Whether this link can hand received bytes to a protocol synchronously
    /// (<see cref="AttachFrameSink"/>) instead of through <see cref="Input"/>. False (the default):
    /// the protocol reads <see cref="Input"/>.
    /// </summary>
    internal virtual bool SupportsFrameSink => false;

    /// <summary>
    /// Only when <see cref="SupportsFrameSink"/> is true, instead of ever reading <see cref="Input"/>:
    /// from now on the thread that takes received bytes off the link calls <paramref name="sink"/> with
    /// them, which parses them there (so, as for a polling protocol, the sink must never run user code).
    /// </summary>
    internal virtual void AttachFrameSink(IRpcFrameSink sink) =>
        throw new NotSupportedException($"{GetType().Name} delivers its input through {nameof(Input)}.");

    /// <summary>
    /// Sends <paramref name="frame"/>, one whole call frame (a lone caller's request, or its
    /// answer), on the link's call lane if it has one and the lane is free: apart from the byte
    /// stream, so it may overtake or be overtaken by what goes through <see cref="Output"/>. The peer's
    /// protocol gets it through <see cref="IRpcFrameSink.ReceiveLane"/>. False (the default) when
    /// the link has no lane, the lane is busy, or the frame does not fit: send it through
    /// <see cref="Output"/> then.
    /// </summary>
    internal virtual bool TrySendOnLane(ReadOnlySpan<byte> frame) => false;

    /// <summary>
    /// Takes the frame waiting on the call lane, if any, on the calling thread and hands it to the
    /// frame sink; a polling thread calls it beside <see cref="TryPollInput"/>. Whether one was taken.
    /// </summary>
    internal virtual bool TryPollLane() => false;

    /// <summary>
    /// Whether <see cref="SendDirectAsync"/> works on this link: it can send a protocol's bytes
    /// straight from the protocol's own buffers, many of them in one gathered system call, instead
    /// of copying them into <see cref="Output"/> first. False (the default) for links that must
    /// transform or frame the bytes themselves (TLS, shared memory, in-memory pipes).
    /// </summary>
    public virtual bool CanSendDirect => false;

    /// <summary>
    /// Sends <paramref name="segments"/>, in order and back to back, straight from the caller's
    /// arrays; completes once the link has taken every byte, after which the caller may reuse them.
    /// Only when <see cref="CanSendDirect"/> is true. The caller runs one send at a time, and
    /// writes nothing to <see cref="Output"/> while it sends this way: bytes flushed to
    /// <see cref="Output"/> earlier may still be on their way and could be overtaken, so a protocol
    /// picks one path for its frames (it may fall back to <see cref="Output"/> for good, e.g. when
    /// it closes). A failure means the link is broken, as a failed flush of <see cref="Output"/> does.
    /// </summary>
    /// <param name="segments">The byte ranges to send; the link does not keep the list after the send completed.</param>
    public virtual ValueTask SendDirectAsync(IList<ArraySegment<byte>> segments) =>
        throw new NotSupportedException($"{GetType().Name} cannot send directly; write to {nameof(Output)}.");

    /// <summary>Closes the link at once; buffered outbound bytes may be lost.</summary>
    public abstract void Abort();

    /// <summary>
    /// Flushes what was written, then closes the link. A pending read of <see cref="Input"/> returns
    /// (completed or canceled); the protocol that owns <see cref="Input"/> completes it.
    /// </summary>
    public abstract ValueTask DisposeAsync();

    /// <summary>
    /// Closes a link whose protocol never read <see cref="Input"/> (a refused connection) so that what
    /// was written last reaches the peer: sends it and ends this side's stream, then reads and drops
    /// what the peer sends until it closes its side, at most <paramref name="maxDiscardBytes"/> and at
    /// most <paramref name="maxTime"/>, then disposes. On a link that cannot end one direction alone
    /// it just disposes.
    /// </summary>
    /// <remarks>
    /// Why: a TCP socket closed while the peer's bytes (a client's hello) sit unread in it, or arrive
    /// after the close, is answered with a reset, and a reset can make the peer's kernel drop what it
    /// received and has not yet handed to the application: the frame that said why the connection is
    /// refused. Reading until the peer closes (it does once it read that frame) leaves nothing unread.
    /// </remarks>
    internal async ValueTask CloseLingeringAsync(int maxDiscardBytes, TimeSpan maxTime)
    {
        using var linger = new CancellationTokenSource(maxTime);
        try
        {
            if (await EndOutputAsync(linger.Token).ConfigureAwait(false))
            {
                await DiscardInputAsync(maxDiscardBytes, linger.Token).ConfigureAwait(false);
            }
        }
        catch (OperationCanceledException) when (linger.IsCancellationRequested)
        {
            // Lingered as long as a refused peer may hold this side: close anyway.
        }

        await DisposeAsync().ConfigureAwait(false);
    }

    /// <summary>
    /// Sends what was written to <see cref="Output"/> and ends this side's stream (a TCP FIN, after a
    /// TLS close_notify), leaving the receiving side open; false when the link cannot end one side alone.
    /// </summary>
    private protected virtual ValueTask<bool> EndOutputAsync(CancellationToken cancellationToken) => new(false);

    private async Task DiscardInputAsync(int maxDiscardBytes, CancellationToken cancellationToken)
    {
        var input = Input;
        long discarded = 0;
        while (true)
        {
            var result = await input.ReadAsync(cancellationToken).ConfigureAwait(false);
            discarded += result.Buffer.Length;
            input.AdvanceTo(result.Buffer.End);
            if (result.IsCompleted || result.IsCanceled || discarded > maxDiscardBytes)
            {
                return;
            }
        }
    }
}
