using System.Diagnostics;

namespace RpcGen.Transport.Message;

/// <summary>
/// How stream items reach their consumer: the reader queues them (<see cref="StreamItemQueue{T}"/>)
/// and wakes a waiting consumer once per read, not per item.
/// </summary>
/// <remarks>
/// Threads: <c>_streamsToPublish</c> is the reader's alone (it is filled and emptied inside one read,
/// on the thread running the reader, which is the link's receiving thread or a thread polling it).
/// </remarks>
internal sealed partial class MessageConnection
{
    // The reader's alone: streams that received items in the current read, whose consumers are
    // woken together when the read is handled (see PublishAfterReaderBatch). Created on first use.
    private List<IStreamReceiver>? _streamsToPublish;

    /// <summary>
    /// Has <paramref name="stream"/>'s consumer woken for its new items once the frames of the current
    /// read are handled when called on the reader (the reader calls <see cref="PublishStreamItems"/>),
    /// at once otherwise.
    /// </summary>
    internal void PublishAfterReaderBatch(IStreamReceiver stream)
    {
        if (t_readerBatch == this)
        {
            (_streamsToPublish ??= []).Add(stream);
        }
        else
        {
            stream.PublishItems();
        }
    }

    /// <summary>Wakes the consumers <see cref="PublishAfterReaderBatch"/> collected; the reader calls it at the end of each read.</summary>
    private void PublishStreamItems()
    {
        if (_streamsToPublish is not { Count: > 0 } streams)
        {
            return;
        }

        // A waiting consumer resumes on the thread pool: none of its code runs here.
        foreach (var stream in streams)
        {
            stream.PublishItems();
        }

        streams.Clear();
    }

    /// <summary>A spin for one stream end that waits for its peer (a consumer for items, a producer for credit), or null when the link's hand-offs are not cheaper than a thread wake.</summary>
    internal AdaptiveSpin? NewStreamSpin() => _link.HandOffSpin > TimeSpan.Zero ? new AdaptiveSpin(_link.HandOffSpin) : null;

    /// <summary>
    /// On a link whose hand-offs cost less than a thread wake, a stream end that ran dry (a consumer
    /// with no item, a producer with no credit) spins for <paramref name="ready"/> of
    /// <paramref name="state"/> as <see cref="PollUntil"/> does. It does not spin at all while work is
    /// queued for the thread pool. The reader that runs here only queues items and credit (it never
    /// runs user code), as on a polling caller's thread.
    /// </summary>
    internal bool PollForStream<TState>(AdaptiveSpin spin, TState state, Func<TState, bool> ready, out long gaveUpAt)
    {
        if (ThreadPool.PendingWorkItemCount > 0)
        {
            // As everywhere on such a link: no spinning while work is queued for the pool, whose
            // threads need the core. The spin was not tried, so the budget stays as it is. The
            // link's receiving thread may still be standing back after this end's last poll (up to
            // its slice): it is told that frames are due, as a poller that gives up tells it.
            if (_link.BeginPolling())
            {
                _link.EndPolling(framesExpected: true);
            }

            gaveUpAt = 0;
            return false;
        }

        return PollUntil(spin, state, ready, out gaveUpAt);
    }

    /// <summary>
    /// Spins until <paramref name="ready"/> of <paramref name="state"/> is true (bounded by
    /// <paramref name="spin"/>), polling the link where it can (<see cref="RpcGen.Links.RpcLink.BeginPolling"/>):
    /// what the peer sent is then moved out of the link and parsed on this thread, and no thread is
    /// woken to hand it on (the link's receiving thread stands back while it is polled). Returns
    /// whether <paramref name="ready"/> became true; false when the spin ran out (then
    /// <paramref name="gaveUpAt"/> is when it started, for <see cref="AdaptiveSpin.CameAfter"/> once
    /// the awaited step comes) or the connection is closing (then it is 0). A static
    /// <paramref name="ready"/> keeps a call's spin free of allocations.
    /// </summary>
    private bool PollUntil<TState>(AdaptiveSpin spin, TState state, Func<TState, bool> ready, out long gaveUpAt)
    {
        gaveUpAt = 0;
        var polling = _link.BeginPolling();
        var started = Stopwatch.GetTimestamp();
        var deadline = spin.Deadline();
        var busyUntil = 0L;
        var caught = false;
        try
        {
            while (!(caught = ready(state)))
            {
                if (_closeReason is not null)
                {
                    return false;
                }

                if (polling && (_link.TryPollLane() || _link.TryPollInput()))
                {
                    continue;
                }

                if (!spin.SpinOnce(ref busyUntil, deadline))
                {
                    gaveUpAt = started;
                    return false;
                }
            }

            spin.Caught();
            return true;
        }
        finally
        {
            if (polling)
            {
                // ready is read again: what the spin waited for may have come after its last look.
                _link.EndPolling(framesExpected: !(caught || ready(state)));
            }
        }
    }
}
