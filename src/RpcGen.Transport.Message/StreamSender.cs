using RpcGen.Serialization;
using RpcGen.Streams;

namespace RpcGen.Transport.Message;

/// <summary>
/// The producing end of a stream: sends items while the receiver's credit is positive, then the end
/// of the stream (or the producer's error).
/// </summary>
internal sealed class StreamSender
{
    // How many queued bytes a producer with items to spare collects before sending.
    private const int FlushThreshold = 64 * 1024;

    // Items whose frame is at most this long are copied back to back into one batch buffer, queued
    // as one: one outbox entry, one copy into the link and one pool round trip per burst instead of
    // per item. Larger items go as they are (copying them again would cost more than it saves).
    private const int BatchedFrameLimit = 1024;

    // Credit above this is a peer granting nonsense; no window is that large.
    private const long MaxCredit = int.MaxValue;

    private readonly MessageConnection _connection;
    private readonly uint _callId;
    private readonly FrameFlags _flags;

    // Bytes the receiver granted minus bytes sent. Written by the reader (grants) and the producer.
    private long _credit;
    private TaskCompletionSource? _creditArrived;

    // Bytes counted against the credit so far (as the credit counts them: payloads after
    // decompression, plus headers), so the bytes granted are this plus the credit. Only the producer
    // touches it; it is read only to log a park (MessageLog.StreamWaitsForCredit).
    private long _sentBytes;

    private readonly RpcGen.Compression.RpcCompression _codec;

    // Over a link whose hand-offs are cheaper than a thread wake: the producer's spin while it has
    // no credit (see MessageConnection.PollForStream); null otherwise.
    private readonly AdaptiveSpin? _spin;

    // Small item frames built and not yet queued, in order; null when none. Only the producer touches it.
    private FrameBuffer? _batch;

    public StreamSender(MessageConnection connection, uint callId, bool senderIsCaller, RpcGen.Compression.RpcCompression codec)
    {
        _codec = codec;
        _connection = connection;
        _callId = callId;
        _flags = senderIsCaller ? FrameFlags.FromCaller : FrameFlags.None;
        _spin = connection.NewStreamSpin();
    }

    /// <summary>The receiver granted more bytes. Runs on the connection's reader.</summary>
    public void OnCredit(uint bytes)
    {
        if (bytes == 0 || Interlocked.Add(ref _credit, bytes) > MaxCredit)
        {
            throw new ProtocolViolation($"The peer granted an invalid amount of credit ({bytes} bytes) on stream {_callId}.");
        }

        Interlocked.Exchange(ref _creditArrived, null)?.TrySetResult();
    }

    /// <summary>
    /// Sends every item, then the end. Returns normally when <paramref name="cancellationToken"/>
    /// stops it (the call is over and nobody reads the stream any more).
    /// </summary>
    public async Task<RpcStatusCode> SendAsync<T>(IAsyncEnumerable<T> items, IRpcFormatter<T> formatter, CancellationToken cancellationToken)
    {
        RpcException? failure = null;
        try
        {
            if (items is StreamChunkSource { CanReadDirectly: true } chunks && formatter is RawBytesFormatter)
            {
                await SendChunksAsync(chunks, cancellationToken).ConfigureAwait(false);
            }
            else
            {
                await SendItemsAsync(items, formatter, cancellationToken).ConfigureAwait(false);
            }

            QueueBatch();
            await _connection.FlushQueuedAsync().ConfigureAwait(false);
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
            return RpcStatusCode.Cancelled;
        }
        catch (RpcException ex) when (ex.StatusCode == RpcStatusCode.Disconnected)
        {
            return RpcStatusCode.Disconnected;
        }
        catch (Exception ex)
        {
            failure = ex as RpcException ?? new RpcException(RpcStatusCode.Failed, $"{ex.GetType().Name}: {ex.Message}", ex);

            // The items produced before the failure still go out, ahead of the end that reports it.
            try
            {
                QueueBatch();
            }
            catch (RpcException)
            {
                // The connection closed; the end cannot go out either.
            }
        }
        finally
        {
            // Items built but never queued (the call was cancelled or the connection closed) are dropped.
            if (_batch is { } unsent)
            {
                _batch = null;
                FrameBuffer.Return(unsent);
            }
        }

        _connection.SendStreamEnd(_callId, _flags, failure);
        return failure?.StatusCode ?? RpcStatusCode.Ok;
    }

    /// <summary>Serializes and sends each item of <paramref name="items"/>; the caller sends what is still batched.</summary>
    private async Task SendItemsAsync<T>(IAsyncEnumerable<T> items, IRpcFormatter<T> formatter, CancellationToken cancellationToken)
    {
        // Items are queued and sent in bursts: a send goes out when the producer has nothing
        // ready, when credit runs out, or every FlushThreshold bytes. A producer with items to
        // spare thus fills each system call instead of paying one per item.
        var queued = 0;
        await using var enumerator = items.GetAsyncEnumerator(cancellationToken);
        while (true)
        {
            var next = enumerator.MoveNextAsync();
            if (!next.IsCompleted && queued > 0)
            {
                await FlushDuringStepAsync(next).ConfigureAwait(false);
                queued = 0;
            }

            if (!await next.ConfigureAwait(false))
            {
                return;
            }

            // Serialize before asking for the next item: chunk producers reuse their buffer.
            var frame = _connection.BuildFrame(enumerator.Current, formatter, "stream item", _codec);
            queued = await SendFrameAsync(frame, queued, cancellationToken).ConfigureAwait(false);
        }
    }

    /// <summary>
    /// Sends a <see cref="Stream"/> (a <c>Stream</c> parameter or result) by reading it straight into
    /// each item's frame, after the header slot: the frame holds the chunk as
    /// <see cref="RawBytesFormatter"/> would have written it (the bytes as they are), without the
    /// copy into a chunk buffer and the copy from there into the frame. Same bursts and credit as
    /// <see cref="SendItemsAsync"/>; the stream is disposed at the end, never while a read runs.
    /// </summary>
    private async Task SendChunksAsync(StreamChunkSource chunks, CancellationToken cancellationToken)
    {
        var linked = chunks.CancellationToken.CanBeCanceled && cancellationToken.CanBeCanceled
            ? CancellationTokenSource.CreateLinkedTokenSource(chunks.CancellationToken, cancellationToken)
            : null;
        var token = linked?.Token ?? (cancellationToken.CanBeCanceled ? cancellationToken : chunks.CancellationToken);
        try
        {
            var queued = 0;
            while (true)
            {
                var frame = FrameBuffer.Rent();
                int read;
                try
                {
                    var reading = chunks.ReadAsync(frame.GetMemory(RpcByteStreams.ChunkSize), token);
                    if (!reading.IsCompleted && queued > 0)
                    {
                        // The read still writes into the frame when a failed send leaves, so the
                        // frame goes back to the pool only after it (FlushDuringStepAsync).
                        await FlushDuringStepAsync(reading).ConfigureAwait(false);
                        queued = 0;
                    }

                    read = await reading.ConfigureAwait(false);
                }
                catch
                {
                    FrameBuffer.Return(frame);
                    throw;
                }

                if (read == 0)
                {
                    FrameBuffer.Return(frame);
                    return;
                }

                frame.Advance(read);
                if (_connection.FinishPayload(frame, "stream item", _codec) is { } invalid)
                {
                    FrameBuffer.Return(frame);
                    throw invalid;
                }

                queued = await SendFrameAsync(frame, queued, token).ConfigureAwait(false);
            }
        }
        finally
        {
            linked?.Dispose();
            await chunks.DisposeStreamAsync().ConfigureAwait(false);
        }
    }

    /// <summary>
    /// Waits for credit, then queues one built item frame (small ones into the batch) and sends the
    /// burst when it is due; returns the bytes queued and not yet sent.
    /// </summary>
    private async ValueTask<int> SendFrameAsync(FrameBuffer frame, int queued, CancellationToken cancellationToken)
    {
        if (Volatile.Read(ref _credit) <= 0 && queued > 0)
        {
            QueueBatch();
            await _connection.FlushQueuedAsync().ConfigureAwait(false);
            queued = 0;
        }

        await WaitForCreditAsync(cancellationToken).ConfigureAwait(false);

        // Flow control counts what the receiver will hold: the payload after decompression.
        var cost = frame.UncompressedPayloadLength + FrameHeader.Size;
        Interlocked.Add(ref _credit, -cost);
        _sentBytes += cost;
        frame.WriteHeader(new FrameHeader(FrameKind.StreamItem, (byte)_flags, frame.PayloadLength, _callId, 0, 0, 0));
        queued += frame.WrittenSpan.Length;
        var full = false;
        if (frame.WrittenSpan.Length <= BatchedFrameLimit)
        {
            (_batch ??= FrameBuffer.RentBatch()).Append(frame.WrittenSpan);
            FrameBuffer.Return(frame);
        }
        else
        {
            // Behind the small items built before it.
            full = QueueBatch();
            full |= _connection.QueueFrame(frame);
        }

        if (full || queued >= FlushThreshold)
        {
            full |= QueueBatch();
            await _connection.FlushQueuedAsync().ConfigureAwait(false);
            queued = 0;
            if (full)
            {
                await _connection.WaitForRoomAsync().ConfigureAwait(false);
            }
        }

        return queued;
    }

    /// <summary>
    /// Sends what is queued while the producer's next step (an item, or a read into a frame) runs.
    /// When the send fails (the connection closed), the step is waited for before the failure goes
    /// on: the producer is disposed on the way out and must not be while that step runs (see
    /// <see cref="FinishStepAsync"/>).
    /// </summary>
    private async ValueTask FlushDuringStepAsync<TResult>(ValueTask<TResult> step)
    {
        try
        {
            QueueBatch();
            await _connection.FlushQueuedAsync().ConfigureAwait(false);
        }
        catch
        {
            await FinishStepAsync(step).ConfigureAwait(false);
            throw;
        }
    }

    /// <summary>
    /// Waits for the producer's step in progress to end, whatever its outcome, which nobody can use
    /// any more: the call is over, and the producer's token was cancelled with it. An enumerator must
    /// not be disposed under a <c>MoveNextAsync</c> in progress: a compiler-generated async iterator
    /// either refuses (<see cref="NotSupportedException"/>) or, when the step is just finishing, runs
    /// its end and then lets the step complete its promise a second time, an
    /// <see cref="InvalidOperationException"/> thrown on the thread pool that kills the process.
    /// </summary>
    private static async ValueTask FinishStepAsync<TResult>(ValueTask<TResult> step)
    {
        try
        {
            await step.ConfigureAwait(false);
        }
        catch (Exception)
        {
            // The producer's own error has nowhere to go: the send already failed.
        }
    }

    /// <summary>Queues the batch of small item frames, if any; returns true when the outbox is over its limit.</summary>
    private bool QueueBatch()
    {
        if (_batch is not { } batch)
        {
            return false;
        }

        // Cleared first: a closed connection returns the buffer to the pool itself as it throws.
        _batch = null;
        return _connection.QueueFrame(batch);
    }

    private async ValueTask WaitForCreditAsync(CancellationToken cancellationToken)
    {
        var gaveUpAt = 0L;
        if (_spin is { } spin && Volatile.Read(ref _credit) <= 0 && !cancellationToken.IsCancellationRequested)
        {
            // Out of credit: take the peer's grant on this thread, if it comes soon.
            if (_connection.PollForStream(spin, this, static sender => Volatile.Read(ref sender._credit) > 0, out gaveUpAt))
            {
                return;
            }
        }

        var parked = false;
        while (Volatile.Read(ref _credit) <= 0)
        {
            var arrived = Volatile.Read(ref _creditArrived);
            if (arrived is null)
            {
                var created = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
                arrived = Interlocked.CompareExchange(ref _creditArrived, created, null) ?? created;
            }

            // A grant may have landed between the check and publishing the signal.
            var credit = Volatile.Read(ref _credit);
            if (credit > 0)
            {
                break;
            }

            if (!parked)
            {
                parked = true;
                LogParked(credit);
            }

            await arrived.Task.WaitAsync(cancellationToken).ConfigureAwait(false);
        }

        if (gaveUpAt != 0)
        {
            _spin!.CameAfter(System.Diagnostics.Stopwatch.GetTimestamp() - gaveUpAt);
        }
    }

    /// <summary>
    /// Tells the connection's log that the producer parks for credit; once per park, never per item.
    /// <paramref name="credit"/> is the value that made it park, so the line agrees with itself.
    /// </summary>
    private void LogParked(long credit)
    {
        var logger = _connection.Logger;
        if (logger.IsEnabled(Microsoft.Extensions.Logging.LogLevel.Debug))
        {
            MessageLog.StreamWaitsForCredit(logger, _connection.Id, _callId, _sentBytes, _sentBytes + credit);
        }
    }
}
