namespace RpcGen.Transport.Message;

/// <summary>
/// The calls one connection made and has no answer for yet, by call id: the table an answer, a
/// stream frame, a cancel, a deadline or the close looks a call up in.
/// </summary>
/// <remarks>
/// Invariants:
/// <list type="bullet">
/// <item>An entry is added (<see cref="TryAdd"/>) before its request is written, so an answer can
/// never arrive for a call the table does not hold yet.</item>
/// <item>An entry leaves exactly once, by whichever of answer, stream end, cancel, deadline, write
/// failure or close comes first; the one that removes it decides how the call ends. Every path that
/// removes an entry then completes or fails the call, outside the lock.</item>
/// <item>Once <see cref="Close"/> ran, nothing is added again: a call that has not been added by
/// then is refused, and one that was is failed by the close.</item>
/// <item>Ids are never zero and never reused while a call with that id is in the table; they only
/// count up (wrapping after 2^32), so an id above <c>_lastCallId</c> was never used.</item>
/// </list>
/// Lock order: the table's own lock is a leaf. No other lock is taken, and no call is completed,
/// failed or run while it is held.
/// </remarks>
internal sealed class OutboundCalls
{
    // Guarded by itself (the lock object). Valid from construction; emptied for good by Close.
    private readonly Dictionary<uint, PendingCall> _calls = new();

    // The last id handed out; guarded by _calls.
    private uint _lastCallId;

    // Set under the lock by Close; from then on TryAdd refuses.
    private bool _closed;

    /// <summary>
    /// How many calls are waiting now, read without the lock: a hint (whether this caller is alone),
    /// never a decision about a particular call.
    /// </summary>
    public int Count => _calls.Count;

    /// <summary>Whether any call is waiting, read under the lock (for the idle-timeout watchdog).</summary>
    public bool Any
    {
        get
        {
            lock (_calls)
            {
                return _calls.Count > 0;
            }
        }
    }

    /// <summary>Gives <paramref name="call"/> a fresh id and lists it; false once the table was closed.</summary>
    public bool TryAdd(PendingCall call)
    {
        lock (_calls)
        {
            if (_closed)
            {
                return false;
            }

            // Call ids wrap after 2^32 calls; skip zero and any id still in flight.
            do
            {
                call.CallId = ++_lastCallId;
            }
            while (call.CallId == 0 || _calls.ContainsKey(call.CallId));

            _calls.Add(call.CallId, call);
            return true;
        }
    }

    /// <summary>Takes the call an answer (response or error) is for; null when it already ended here (the answer crossed a Cancel).</summary>
    public PendingCall? Take(uint callId)
    {
        lock (_calls)
        {
            return _calls.Remove(callId, out var call) ? call : null;
        }
    }

    /// <summary>Removes <paramref name="call"/> if it is still listed (and not a later call that reused its id); true when this removed it.</summary>
    public bool TryRemove(PendingCall call)
    {
        lock (_calls)
        {
            return _calls.TryGetValue(call.CallId, out var current) && ReferenceEquals(current, call) && _calls.Remove(call.CallId);
        }
    }

    /// <summary>
    /// Finds the call a stream frame is for, taking it out when the frame is the stream end that
    /// finishes it; null for a call that already ended. A frame for an id this side never used is a
    /// protocol violation.
    /// </summary>
    public PendingCall? FindForStreamFrame(uint callId, bool isStreamEnd)
    {
        lock (_calls)
        {
            _calls.TryGetValue(callId, out var call);
            if (call is null && callId > _lastCallId)
            {
                throw new ProtocolViolation($"The peer sent a stream frame for call {callId}, which this side never made.");
            }

            if (call is not null && isStreamEnd && call.EndsWithStream)
            {
                _calls.Remove(callId);
            }

            return call;
        }
    }

    /// <summary>Closes the table for good and returns every call still waiting, for the caller to fail.</summary>
    public PendingCall[] Close()
    {
        lock (_calls)
        {
            _closed = true;
            PendingCall[] waiting = [.. _calls.Values];
            _calls.Clear();
            return waiting;
        }
    }
}
