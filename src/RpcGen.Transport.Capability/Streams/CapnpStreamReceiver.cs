using System.Runtime.CompilerServices;

namespace RpcGen.Capnp;

/// <summary>
/// A sink served in this process: the server side of <c>interface XSink { write @0 (item :T) -&gt; stream;
/// end @1 () -&gt; (…); }</c>. Each <c>write</c> queues its item for the consumer (<see cref="ReadAllAsync"/>),
/// and is answered when the consumer takes it, so a consumer that stalls holds back the producer's
/// window; <c>end</c> ends the items and is answered by what <see cref="OnEnd"/> writes.
/// </summary>
/// <remarks>
/// <para>
/// Its calls run on the connection's reader (it is an <see cref="IInlineCapabilityServer"/>): decoding
/// an item and queueing it never blocks, and the items, the <c>end</c> and the Return of a call that
/// streams into the sink are then seen in the order they were sent.
/// </para>
/// <para>
/// Hostile producers: a <c>write</c> after <c>end</c>, a second <c>end</c>, and more than
/// <c>maxQueuedBytes</c> waiting for the consumer (a producer that ignores flow control) fail the
/// stream: that call with an error, and the consumer with the same error after the items before it.
/// The last reference released without <c>end</c> fails the consumer too (the producer gave up) and
/// fires <see cref="Cancellation"/>.
/// </para>
/// <para>Lock order: <c>_gate</c> is a leaf lock; answers and wake-ups are completed after it is released.</para>
/// </remarks>
/// <typeparam name="T">The item type.</typeparam>
public sealed class CapnpStreamReceiver<T> : IInlineCapabilityServer, IDisposable
{
    private readonly ulong _interfaceId;
    private readonly Func<StructReader, T> _read;
    private readonly long _maxQueuedBytes;
    private readonly object _gate = new();
    private readonly Queue<Entry> _items = new();
    private readonly CancellationTokenSource _cancellation = new();

    // Under _gate. _queuedBytes: the sizes of the writes in _items. _consumerWaits: the consumer waits
    // for an item or the end. _ended: end arrived. _failure: the stream failed; the consumer sees it
    // after the queued items. _consumerGone: the consumer stopped reading; later writes are answered and
    // dropped. _producerError: what later writes are answered with (the consumer's side failed).
    private long _queuedBytes;
    private TaskCompletionSource? _consumerWaits;
    private bool _ended;
    private RpcException? _failure;
    private bool _consumerGone;
    private RpcException? _producerError;
    private bool _enumerated;

    /// <summary>
    /// A sink for interface <paramref name="interfaceId"/> whose <c>write</c> parameters <paramref name="read"/>
    /// decodes, which holds at most <paramref name="maxQueuedBytes"/> of writes for its consumer.
    /// </summary>
    public CapnpStreamReceiver(ulong interfaceId, Func<StructReader, T> read, long maxQueuedBytes)
    {
        ArgumentNullException.ThrowIfNull(read);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(maxQueuedBytes);
        _interfaceId = interfaceId;
        _read = read;
        _maxQueuedBytes = maxQueuedBytes;
    }

    /// <summary>What answers <c>end</c>: writes the end's results (for a parameter stream, the method's result). Null answers with no results.</summary>
    public Func<CallContext, Task>? OnEnd { get; set; }

    /// <summary>Fires when the producer released the sink without <c>end</c>, or the stream failed.</summary>
    public CancellationToken Cancellation => _cancellation.Token;

    /// <summary>The bytes of writes waiting for the consumer.</summary>
    public long QueuedBytes
    {
        get
        {
            lock (_gate)
            {
                return _queuedBytes;
            }
        }
    }

    /// <inheritdoc />
    public Task DispatchAsync(CallContext context)
    {
        ArgumentNullException.ThrowIfNull(context);
        if (context.InterfaceId != _interfaceId)
        {
            throw new RpcException(RpcStatusCode.Unimplemented, $"A stream sink does not implement interface 0x{context.InterfaceId:x16} (it implements 0x{_interfaceId:x16}).");
        }

        return context.MethodId switch
        {
            0 => Write(context),
            1 => End(context),
            _ => throw new RpcException(RpcStatusCode.Unimplemented, $"A stream sink has no method {context.MethodId} (write @0 and end @1)."),
        };
    }

    /// <summary>
    /// The items, in order, until <c>end</c>; taking one answers its <c>write</c>. Throws the stream's
    /// error after the items before it. Enumerate once; leaving early drops (and answers) later writes.
    /// </summary>
    public async IAsyncEnumerable<T> ReadAllAsync([EnumeratorCancellation] CancellationToken cancellationToken = default)
    {
        lock (_gate)
        {
            if (_enumerated)
            {
                throw new InvalidOperationException("A stream can be read once.");
            }

            _enumerated = true;
        }

        try
        {
            while (true)
            {
                Entry entry;
                Task? wait = null;
                lock (_gate)
                {
                    if (_items.TryDequeue(out entry))
                    {
                        _queuedBytes -= entry.Bytes;
                    }
                    else if (_failure is { } failure)
                    {
                        // A consumer that cancelled sees its own cancellation, not the call's that it caused.
                        if (cancellationToken != _cancellation.Token)
                        {
                            cancellationToken.ThrowIfCancellationRequested();
                        }

                        throw new RpcException(failure.StatusCode, failure.Message, failure);
                    }
                    else if (_ended)
                    {
                        yield break;
                    }
                    else
                    {
                        wait = (_consumerWaits ??= new(TaskCreationOptions.RunContinuationsAsynchronously)).Task;
                    }
                }

                // Nothing queued: wait for a write, the end or a failure, then look again.
                if (wait is not null)
                {
                    try
                    {
                        await wait.WaitAsync(cancellationToken).ConfigureAwait(false);
                    }
                    catch (OperationCanceledException) when (FailureOrNull() is { } failure && (cancellationToken == _cancellation.Token || !cancellationToken.IsCancellationRequested))
                    {
                        // The stream failed, which also fired Cancellation (the token the consumer may
                        // have passed here): the failure says why.
                        throw new RpcException(failure.StatusCode, failure.Message, failure);
                    }

                    continue;
                }

                entry.Answer.TrySetResult();
                yield return entry.Item;
            }
        }
        finally
        {
            StopConsuming();
        }
    }

    /// <summary>Fails the consumer with <paramref name="error"/> after the items already queued (the call that streams here failed).</summary>
    public void Fail(RpcException error)
    {
        ArgumentNullException.ThrowIfNull(error);
        TaskCompletionSource? wake;
        lock (_gate)
        {
            if (_ended || _failure is not null)
            {
                return;
            }

            _failure = error;
            wake = TakeWaiter();
        }

        wake?.TrySetResult();
        CancelQuietly();
    }

    /// <summary>Ends the items as <c>end</c> would, unless the stream already ended or failed (the call that streams here returned).</summary>
    public void Complete()
    {
        TaskCompletionSource? wake;
        lock (_gate)
        {
            if (_ended || _failure is not null)
            {
                return;
            }

            _ended = true;
            wake = TakeWaiter();
        }

        wake?.TrySetResult();
    }

    /// <summary>Answers pending and later writes with <paramref name="error"/> (the consumer's side failed), so the producer stops.</summary>
    public void FailProducer(RpcException error)
    {
        ArgumentNullException.ThrowIfNull(error);
        Entry[] pending;
        lock (_gate)
        {
            _producerError ??= error;
            pending = [.. _items];
            _items.Clear();
            _queuedBytes = 0;
        }

        foreach (var entry in pending)
        {
            entry.Answer.TrySetException(error);
        }
    }

    /// <summary>The last reference is gone: without <c>end</c>, the producer gave up.</summary>
    public void Dispose()
    {
        Fail(new RpcException(RpcStatusCode.Disconnected, "The producer released the stream without ending it."));
    }

    private Task Write(CallContext context)
    {
        var bytes = (context.Params.Message?.TotalWords ?? 1) * 8;
        RpcException? violation = null;
        lock (_gate)
        {
            if (_producerError is { } producerError)
            {
                return Task.FromException(producerError);
            }

            if (_ended)
            {
                violation = new RpcException(RpcStatusCode.Failed, "The stream got a write after its end.");
            }
            else if (_consumerGone)
            {
                // Dropped, not failed: a producer the consumer left is told to stop by its call's
                // cancellation, which the failure of this write could overtake.
                return Task.CompletedTask;
            }
            else if (_failure is not null)
            {
                return Task.FromException(_failure);
            }
            else if (_queuedBytes + bytes > _maxQueuedBytes)
            {
                violation = new RpcException(
                    RpcStatusCode.Overloaded,
                    $"The stream's producer sent {_queuedBytes + bytes} bytes ahead of its consumer; the limit is {_maxQueuedBytes} (MaxStreamBytesInFlight). It does not follow flow control.");
            }
        }

        if (violation is not null)
        {
            Fail(violation);
            return Task.FromException(violation);
        }

        T item;
        try
        {
            item = _read(context.Params.GetStruct());
        }
        catch (Exception error)
        {
            var invalid = new RpcException(RpcStatusCode.InvalidPayload, "A stream item could not be read: " + error.Message, error);
            Fail(invalid);
            return Task.FromException(invalid);
        }

        var entry = new Entry(item, bytes, new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously));
        TaskCompletionSource? wake;
        lock (_gate)
        {
            if (_consumerGone || _failure is not null || _ended)
            {
                return Task.CompletedTask;
            }

            _items.Enqueue(entry);
            _queuedBytes += bytes;
            wake = TakeWaiter();
        }

        wake?.TrySetResult();
        return entry.Answer.Task;
    }

    private Task End(CallContext context)
    {
        TaskCompletionSource? wake;
        lock (_gate)
        {
            if (_ended)
            {
                throw new RpcException(RpcStatusCode.Failed, "The stream was ended twice.");
            }

            if (_failure is { } failure)
            {
                return Task.FromException(failure);
            }

            _ended = true;
            wake = TakeWaiter();
        }

        wake?.TrySetResult();
        return OnEnd?.Invoke(context) ?? Task.CompletedTask;
    }

    /// <summary>The consumer will read no more: queued and later writes are answered and dropped.</summary>
    internal void StopReading() => StopConsuming();

    private void StopConsuming()
    {
        Entry[] pending;
        lock (_gate)
        {
            _consumerGone = true;
            pending = [.. _items];
            _items.Clear();
            _queuedBytes = 0;
        }

        foreach (var entry in pending)
        {
            entry.Answer.TrySetResult();
        }
    }

    private RpcException? FailureOrNull()
    {
        lock (_gate)
        {
            return _failure;
        }
    }

    private TaskCompletionSource? TakeWaiter()
    {
        var waiter = _consumerWaits;
        _consumerWaits = null;
        return waiter;
    }

    private void CancelQuietly()
    {
        try
        {
            _cancellation.Cancel();
        }
        catch (AggregateException)
        {
            // A callback of the implementation threw; the stream has failed either way.
        }
    }

    private readonly record struct Entry(T Item, long Bytes, TaskCompletionSource Answer);
}
