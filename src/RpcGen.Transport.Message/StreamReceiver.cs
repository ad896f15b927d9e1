using System.Buffers;
using RpcGen.Serialization;

namespace RpcGen.Transport.Message;

/// <summary>The receiving end of a stream as the connection's reader sees it.</summary>
internal interface IStreamReceiver
{
    /// <summary>An item arrived. Throws <see cref="ProtocolViolation"/> when the peer broke flow control or sent after the end.</summary>
    void OnItem(in ReadOnlySequence<byte> payload);

    /// <summary>The producer ended the stream, with an error or without.</summary>
    void OnEnd(RpcException? error);

    /// <summary>The stream cannot continue (call cancelled, connection lost).</summary>
    void Fail(Exception error);

    /// <summary>Wakes the consumer for the items <see cref="OnItem"/> added; the reader calls it once per read (see <c>MessageConnection.PublishAfterReaderBatch</c>).</summary>
    void PublishItems();
}

/// <summary>
/// The consuming end of a stream. Items are decoded as they arrive and queued; the producer may only
/// have <see cref="RpcLimits.StreamWindowBytes"/> unconsumed (plus one item), and credit flows back as
/// the consumer takes items, so a consumer that stalls stops its producer.
/// </summary>
/// <remarks>
/// Flow control, from the receiver's side: <c>_outstanding</c> is what this side has granted and not
/// yet received. The producer sends only while its own view of the credit is positive, and that view
/// never exceeds ours (we add before the Credit frame leaves), so an item arriving while
/// <c>_outstanding</c> is not positive is a violation, not a race.
/// </remarks>
internal sealed class StreamReceiver<T> : IStreamReceiver, IAsyncEnumerable<T>
{
    private readonly MessageConnection _connection;
    private readonly uint _callId;
    private readonly FrameFlags _creditFlags;
    private readonly IRpcFormatter<T> _formatter;
    private readonly int _window;
    private readonly Action? _onAbandoned;
    private readonly StreamItemQueue<(T Item, int Cost)> _items = new();

    // Granted and not yet received; written by the reader (items) and the consumer (grants).
    private long _outstanding;

    // Consumed since the last Credit frame; only the consumer touches it.
    private int _unreported;

    // Set by the reader when the producer's StreamEnd arrived, or by Fail.
    private bool _ended;

    // Set by Fail: this side gave up on the stream (cancelled, connection lost), so items that were
    // already on the wire when it did are dropped, not taken for a peer sending after its end.
    private bool _failed;

    // Over a link whose hand-offs are cheaper than a thread wake: the consumer's spin while it has
    // no item (see MessageConnection.PollForStream); null otherwise.
    private readonly AdaptiveSpin? _spin;

    // The reader's alone: items were added in the current read and PublishItems is due at its end.
    private bool _publishPending;
    private int _enumerated;

    public StreamReceiver(MessageConnection connection, uint callId, bool receiverIsCaller, IRpcFormatter<T> formatter, int window, Action? onAbandoned)
    {
        _connection = connection;
        _callId = callId;
        _creditFlags = receiverIsCaller ? FrameFlags.FromCaller : FrameFlags.None;
        _formatter = formatter;
        _window = window;
        _onAbandoned = onAbandoned;
        _spin = connection.NewStreamSpin();
    }

    /// <summary>Grants the first window; call once the producer can know the stream exists.</summary>
    public void Start() => Grant(_window);

    public void OnItem(in ReadOnlySequence<byte> payload)
    {
        switch (Ended())
        {
            case EndedBy.ThisSide:
                return;
            case EndedBy.Peer:
                throw new ProtocolViolation($"The peer sent an item on stream {_callId} after its end.");
        }

        // The payload as held here (decompressed), so a compressed stream cannot hold more memory
        // than the window.
        var cost = checked((int)payload.Length + FrameHeader.Size);
        if (Interlocked.Add(ref _outstanding, -cost) + cost <= 0)
        {
            throw new ProtocolViolation($"The peer sent on stream {_callId} without credit (flow-control window violated).");
        }

        T item;
        try
        {
            item = RpcSerializer.Deserialize(payload, _formatter);
        }
        catch (RpcException ex)
        {
            Fail(ex);
            _onAbandoned?.Invoke();
            return;
        }

        _items.Add((item, cost));
        if (!_publishPending)
        {
            // Wake the consumer (if it waits) once the reader has handled the whole read it is in,
            // not once per item: a read of small items holds thousands.
            _publishPending = true;
            _connection.PublishAfterReaderBatch(this);
        }
    }

    public void PublishItems()
    {
        _publishPending = false;
        _items.Publish();
    }

    public void OnEnd(RpcException? error)
    {
        switch (Ended())
        {
            case EndedBy.ThisSide:
                return;
            case EndedBy.Peer:
                throw new ProtocolViolation($"The peer ended stream {_callId} twice.");
        }

        Volatile.Write(ref _ended, true);
        _items.Complete(error);
    }

    /// <summary>
    /// Whether the stream has ended, and by whose doing: frames after a local failure (the caller's
    /// cancel) are dropped, frames after the peer's end are a violation. <see cref="Fail"/> sets
    /// <c>_failed</c> before <c>_ended</c>, so <c>_ended</c> is read first: an end that a failure
    /// set is then always seen as that failure, even when it lands between the two reads.
    /// </summary>
    private EndedBy Ended()
    {
        var ended = Volatile.Read(ref _ended);
        return Volatile.Read(ref _failed) ? EndedBy.ThisSide : ended ? EndedBy.Peer : EndedBy.Nobody;
    }

    public void Fail(Exception error)
    {
        Volatile.Write(ref _failed, true);
        Volatile.Write(ref _ended, true);
        _items.Complete(error);
    }

    public async IAsyncEnumerator<T> GetAsyncEnumerator(CancellationToken cancellationToken = default)
    {
        if (Interlocked.Exchange(ref _enumerated, 1) != 0)
        {
            throw new InvalidOperationException("A stream can be enumerated once.");
        }

        var finished = false;
        try
        {
            // Items come in batches (whatever the reader decoded since the last look), so the
            // consumer is woken once per batch, not once per item.
            while (true)
            {
                while (_items.TryTake(out var entry))
                {
                    Consumed(entry.Cost);
                    yield return entry.Item;
                }

                if (_spin is { } spin && !_items.IsReady)
                {
                    // Ran dry: take what the peer sends next on this thread, if it comes soon.
                    if (_connection.PollForStream(spin, _items, static items => items.IsReady, out var gaveUpAt))
                    {
                        continue;
                    }

                    var more = await _items.WaitAsync(cancellationToken).ConfigureAwait(false);
                    if (gaveUpAt != 0)
                    {
                        spin.CameAfter(System.Diagnostics.Stopwatch.GetTimestamp() - gaveUpAt);
                    }

                    if (!more)
                    {
                        break;
                    }

                    continue;
                }

                if (!await _items.WaitAsync(cancellationToken).ConfigureAwait(false))
                {
                    break;
                }
            }

            finished = true;
        }
        finally
        {
            if (!finished)
            {
                // The consumer left early (break, exception, cancellation): tell the producer.
                _onAbandoned?.Invoke();
            }
        }
    }

    private void Consumed(int cost)
    {
        _unreported += cost;
        if (_unreported >= _window / 2 && !Volatile.Read(ref _ended))
        {
            Grant(_unreported);
            _unreported = 0;
        }
    }

    private void Grant(int bytes)
    {
        Interlocked.Add(ref _outstanding, bytes);
        _connection.SendCredit(_callId, _creditFlags, (uint)bytes);
    }

    private enum EndedBy
    {
        Nobody,
        ThisSide,
        Peer,
    }
}
