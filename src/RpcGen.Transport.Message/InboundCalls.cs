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
/// Lock order: the table's lock (<c>_calls</c>) is taken first and may be held while a listed call
/// takes its own request-stream gate (<see cref="ServerCall.OnStreamEnd"/>), so a call cannot finish
/// and be reused under a stream frame. Nothing under it runs user code: cancellation found here is
/// fired by the caller after the lock is left (<see cref="ServerCall.Fire"/>).
/// </remarks>
internal sealed class InboundCalls
{
    // Guarded by itself (the lock object).
    private readonly Dictionary<uint, ServerCall> _calls = new();

    // The highest call id the peer has used for a two-way call; guarded by _calls.
    private uint _highestCallId;

    /// <summary>Lists a two-way call the reader is about to hand on; a reused id is a protocol violation.</summary>
    public void Add(ServerCall call)
    {
        lock (_calls)
        {
            _highestCallId = Math.Max(_highestCallId, call.CallId);
            if (!_calls.TryAdd(call.CallId, call))
            {
                throw new ProtocolViolation($"The peer reused call id {call.CallId} while that call is still running.");
            }
        }
    }

    /// <summary>Unlists a finished call (unless its id already belongs to a later call).</summary>
    public void Remove(ServerCall call)
    {
        lock (_calls)
        {
            if (_calls.TryGetValue(call.CallId, out var current) && ReferenceEquals(current, call))
            {
                _calls.Remove(call.CallId);
            }
        }
    }

    /// <summary>Marks call <paramref name="callId"/> cancelled, if it still runs; returns what the caller fires after.</summary>
    public (CancellationTokenSource? Token, IStreamReceiver? RequestStream) Cancel(uint callId)
    {
        lock (_calls)
        {
            return _calls.TryGetValue(callId, out var call) ? call.MarkCancelled() : default;
        }
    }

    /// <summary>Marks every running call cancelled (the connection closes); returns what the caller fires after.</summary>
    public List<(CancellationTokenSource? Token, IStreamReceiver? RequestStream)> CancelAll()
    {
        lock (_calls)
        {
            return _calls.Values.Select(call => call.MarkCancelled()).ToList();
        }
    }

    /// <summary>
    /// Hands a stream frame from the caller to its call, under the lock so the call cannot be
    /// finished and reused meanwhile (none of it runs user code); a frame for a call that already
    /// ended is dropped.
    /// </summary>
    public void OnStreamFrame(in FrameHeader header, in ReadOnlySequence<byte> payload, RpcException? error)
    {
        lock (_calls)
        {
            _calls.TryGetValue(header.CallId, out var call);
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
