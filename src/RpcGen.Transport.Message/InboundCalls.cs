using System.Buffers;

namespace RpcGen.Transport.Message;

/// <summary>
/// The two-way calls the peer made that are still running here, by the peer's call id: the table a
/// Cancel, a stream frame from the caller or the close looks a call up in.
/// </summary>
/// <remarks>
/// Invariants:
/// <list type="bullet">
/// <item>A two-way call is listed by the reader before its implementation is handed on, and
/// unlisted once it finished (<see cref="Remove"/>); one-way calls are never listed (they cannot be
/// cancelled and have no streams).</item>
/// <item>The peer may not reuse the id of a call still listed (a protocol violation).</item>
/// <item><c>_highestCallId</c> only grows: a stream frame for an unlisted id above it names a call
/// the peer never made (a violation), while one at or below it may be late (the call ended while
/// the frame was on the wire) and is dropped.</item>
/// </list>
/// Lock order: the table is striped by call id (<see cref="StripeCount"/> stripes, each a dictionary
/// guarded by itself), because the reader lists calls while handler threads unlist theirs: one lock
/// for all was the most contended lock at 64 callers. A call lives in one stripe for its whole life,
/// so every rule above holds per stripe. No two stripe locks are ever held at once (the close takes
/// them one after another). A stripe's lock may be held while a listed call takes its own
/// request-stream gate (<see cref="ServerCall.OnStreamEnd"/>), so a call cannot finish and be reused
/// under a stream frame. Nothing under it runs user code: cancellation found here is fired by the
/// caller after the lock is left (<see cref="ServerCall.Fire"/>).
/// </remarks>
internal sealed class InboundCalls
{
    // A power of two: a call's stripe is its id's low bits, so consecutive ids (concurrent callers)
    // land in different stripes.
    private const int StripeCount = 16;

    // Each guarded by itself (the lock object); valid for the table's life.
    private readonly Dictionary<uint, ServerCall>[] _stripes = CreateStripes();

    // The highest call id the peer has used for a two-way call. Written by the reader alone (Add)
    // and read by the reader alone (OnStreamFrame), so it needs no lock.
    private uint _highestCallId;

    private static Dictionary<uint, ServerCall>[] CreateStripes()
    {
        var stripes = new Dictionary<uint, ServerCall>[StripeCount];
        for (var i = 0; i < stripes.Length; i++)
        {
            stripes[i] = new Dictionary<uint, ServerCall>();
        }

        return stripes;
    }

    private Dictionary<uint, ServerCall> StripeOf(uint callId) => _stripes[callId & (StripeCount - 1)];

    /// <summary>Lists a two-way call the reader is about to hand on; a reused id is a protocol violation. Reader only.</summary>
    public void Add(ServerCall call)
    {
        _highestCallId = Math.Max(_highestCallId, call.CallId);
        var stripe = StripeOf(call.CallId);
        lock (stripe)
        {
            if (!stripe.TryAdd(call.CallId, call))
            {
                throw new ProtocolViolation($"The peer reused call id {call.CallId} while that call is still running.");
            }
        }
    }

    /// <summary>Unlists a finished call (unless its id already belongs to a later call).</summary>
    public void Remove(ServerCall call)
    {
        var stripe = StripeOf(call.CallId);
        lock (stripe)
        {
            if (stripe.TryGetValue(call.CallId, out var current) && ReferenceEquals(current, call))
            {
                stripe.Remove(call.CallId);
            }
        }
    }

    /// <summary>Marks call <paramref name="callId"/> cancelled, if it still runs; returns what the caller fires after.</summary>
    public (CancellationTokenSource? Token, IStreamReceiver? RequestStream) Cancel(uint callId)
    {
        var stripe = StripeOf(callId);
        lock (stripe)
        {
            return stripe.TryGetValue(callId, out var call) ? call.MarkCancelled() : default;
        }
    }

    /// <summary>Marks every running call cancelled (the connection closes); returns what the caller fires after.</summary>
    public List<(CancellationTokenSource? Token, IStreamReceiver? RequestStream)> CancelAll()
    {
        var cancelled = new List<(CancellationTokenSource? Token, IStreamReceiver? RequestStream)>();
        foreach (var stripe in _stripes)
        {
            lock (stripe)
            {
                foreach (var call in stripe.Values)
                {
                    cancelled.Add(call.MarkCancelled());
                }
            }
        }

        return cancelled;
    }

    /// <summary>
    /// Hands a stream frame from the caller to its call, under the call's stripe lock so the call
    /// cannot be finished and reused meanwhile (none of it runs user code); a frame for a call that
    /// already ended is dropped. Reader only.
    /// </summary>
    public void OnStreamFrame(in FrameHeader header, in ReadOnlySequence<byte> payload, RpcException? error)
    {
        var stripe = StripeOf(header.CallId);
        lock (stripe)
        {
            stripe.TryGetValue(header.CallId, out var call);
            if (call is null && header.CallId > _highestCallId)
            {
                throw new ProtocolViolation($"The peer sent a stream frame for call {header.CallId}, which it never made.");
            }

            switch (header.Kind)
            {
                case FrameKind.StreamItem:
                    call?.OnStreamItem(payload);
                    break;
                case FrameKind.StreamEnd:
                    call?.OnStreamEnd(error);
                    break;
                default:
                    call?.OnCredit(header.MethodId);
                    break;
            }
        }
    }
}
