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
}
