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
/// <item><see cref="PendingCall.Listed"/> is true exactly while the call is in the table (both
/// written under the lock), so the reader's stream-item shortcut can tell, without the lock, that the
/// call it remembers has not left.</item>
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

    // The streaming call the last stream item was for, so the items of one open stream (a server
    // stream sends them by the thousand) skip the lock. Read by the reader without the lock (a stale
    // read is harmless: it is used only while its id matches and it is still Listed); written only
    // under the lock, and forgotten there whenever its call leaves the table, so a cancelled or failed
    // stream (and the items its consumer never read) is not kept alive by this shortcut.
    private volatile PendingCall? _lastStreamTarget;

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
            call.Listed = true;
            return true;
        }
    }

    /// <summary>Takes the call an answer (response or error) is for; null when it already ended here (the answer crossed a Cancel).</summary>
    public PendingCall? Take(uint callId)
    {
        lock (_calls)
        {
            if (!_calls.Remove(callId, out var call))
            {
                return null;
            }

            Unlist(call);
            return call;
        }
    }

    /// <summary>Removes <paramref name="call"/> if it is still listed (and not a later call that reused its id); true when this removed it.</summary>
    public bool TryRemove(PendingCall call)
    {
        lock (_calls)
        {
            if (!_calls.TryGetValue(call.CallId, out var current) || !ReferenceEquals(current, call))
            {
                return false;
            }

            _calls.Remove(call.CallId);
            Unlist(call);
            return true;
        }
    }

    /// <summary>
    /// Finds the call a stream frame is for, taking it out when the frame is the stream end that
    /// finishes it; null for a call that already ended. A frame for an id this side never used is a
    /// protocol violation.
    /// </summary>
    /// <remarks>Called only by the reader.</remarks>
    public PendingCall? FindForStreamFrame(uint callId, bool isStreamEnd) => Find(callId, isStreamEnd, rememberStream: false);

    /// <summary>
    /// Finds the call a stream item is for, as <see cref="FindForStreamFrame"/> does, but without the
    /// lock while the items keep coming for the same open stream. Called only by the reader.
    /// </summary>
    /// <remarks>
    /// Why this is safe: an item never takes a call out of the table, so the only change that matters
    /// is the call leaving it (end, cancel, deadline, close), which clears <see cref="PendingCall.Listed"/>.
    /// Alice's consumer cancels while the reader holds the call it remembers and has read Listed as
    /// true: the item goes to a call that is being failed, exactly as it did when the reader had
    /// found the call under the lock an instant before the cancel; the failed stream drops it.
    /// </remarks>
    public PendingCall? FindForStreamItem(uint callId)
    {
        var remembered = _lastStreamTarget;
        if (remembered is not null && remembered.CallId == callId && remembered.Listed)
        {
            return remembered;
        }

        return Find(callId, isStreamEnd: false, rememberStream: true);
    }

    private PendingCall? Find(uint callId, bool isStreamEnd, bool rememberStream)
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
                Unlist(call);
            }
            else if (rememberStream)
            {
                // Remembered under the lock, so a call that leaves the table right after this cannot
                // be remembered after its leaving forgot it. Only calls with a response stream are
                // remembered: other calls are pooled and reused, and an item for one is a protocol
                // violation anyway.
                _lastStreamTarget = call is { EndsWithStream: true } ? call : null;
            }

            return call;
        }
    }

    // Under the lock, for a call that just left the table.
    private void Unlist(PendingCall call)
    {
        call.Listed = false;
        if (ReferenceEquals(_lastStreamTarget, call))
        {
            _lastStreamTarget = null;
        }
    }

    /// <summary>Closes the table for good and returns every call still waiting, for the caller to fail.</summary>
    public PendingCall[] Close()
    {
        lock (_calls)
        {
            _closed = true;
            _lastStreamTarget = null;
            PendingCall[] waiting = [.. _calls.Values];
            foreach (var call in waiting)
            {
                call.Listed = false;
            }

            _calls.Clear();
            return waiting;
        }
    }
}
