using System.Buffers;

namespace RpcGen.Links;

/// <summary>
/// A protocol's reader as a synchronous callee (<see cref="RpcLink.AttachFrameSink"/>): the link's
/// draining thread hands it the received bytes directly instead of writing them into
/// <see cref="RpcLink.Input"/> for an asynchronous read loop. Calls come from one thread at a time,
/// in the order the bytes arrived.
/// </summary>
internal interface IRpcFrameSink
{
    /// <summary>
    /// Parses and handles the whole frames at the front of <paramref name="received"/> (everything
    /// received and not consumed yet, in order). <paramref name="consumed"/> is how many bytes those
    /// frames took: the link keeps the rest (a frame not complete yet, or whole frames left while
    /// paused) and hands it back, followed by what arrives next. <paramref name="nextFrameBytes"/> is
    /// the size the incomplete frame at the front of the rest declares, already checked against the
    /// protocol's frame limit (0 when not known yet), so the link can grow its buffer once.
    /// Never throws: a protocol error ends the connection and returns <see cref="RpcFrameSinkStatus.Stopped"/>.
    /// </summary>
    RpcFrameSinkStatus Receive(ReadOnlySequence<byte> received, out long consumed, out long nextFrameBytes);

    /// <summary>
    /// Parses and handles <paramref name="frame"/>, which came on the link's call lane
    /// (<see cref="RpcLink.TrySendOnLane"/>): it must be exactly one whole call or answer frame.
    /// Returns <see cref="RpcFrameSinkStatus.Paused"/> when the protocol must not be handed more
    /// (the link then takes nothing more, from the lane or the ring, until <see cref="MustWait"/>
    /// is false), as <see cref="Receive"/> does. Never throws: anything else ends the connection
    /// with a protocol error and returns <see cref="RpcFrameSinkStatus.Stopped"/>.
    /// </summary>
    RpcFrameSinkStatus ReceiveLane(ReadOnlySequence<byte> frame);

    /// <summary>The end of a batch of <see cref="Receive"/> calls (one drain of the link): frames the reader queued go out.</summary>
    void EndBatch();

    /// <summary>Whether the protocol must not be handed more bytes yet (it returned <see cref="RpcFrameSinkStatus.Paused"/>, and there is still no room).</summary>
    bool MustWait { get; }

    /// <summary>Completes when <see cref="MustWait"/> may have turned false, or the connection closed.</summary>
    Task WaitForRoomAsync();

    /// <summary>
    /// The input ended: <paramref name="error"/> null when the peer closed its side, with
    /// <paramref name="unconsumedBytes"/> of an incomplete frame left; otherwise why the link failed.
    /// Called once, after which nothing else is.
    /// </summary>
    void Complete(long unconsumedBytes, Exception? error);
}

/// <summary>What a link does after <see cref="IRpcFrameSink.Receive"/>.</summary>
internal enum RpcFrameSinkStatus
{
    /// <summary>Go on delivering.</summary>
    Continue,

    /// <summary>Take no more input until <see cref="IRpcFrameSink.MustWait"/> is false, so the peer waits for room.</summary>
    Paused,

    /// <summary>The protocol stopped reading (the connection is ending): deliver nothing more, not even <see cref="IRpcFrameSink.Complete"/>.</summary>
    Stopped,
}
