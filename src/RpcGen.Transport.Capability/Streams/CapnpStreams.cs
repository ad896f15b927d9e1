using System.Buffers;
using System.Runtime.CompilerServices;

namespace RpcGen.Capnp;

/// <summary>
/// How generated Cap'n Proto bindings carry <c>IAsyncEnumerable&lt;T&gt;</c> and <c>Stream</c> through
/// streaming calls (<c>-&gt; stream</c>). Every stream is a sink capability,
/// <c>interface XSink { write @0 (item :T) -&gt; stream; end @1 () -&gt; (…); }</c> (for bytes
/// <c>write @0 (bytes :Data)</c>, as <c>byte-stream.capnp</c>), written by a <see cref="CapnpStreamSender"/>
/// and served by a <see cref="CapnpStreamReceiver{T}"/>:
/// <list type="bullet">
/// <item>A streamed <b>result</b>: the caller serves the sink and passes it as the call's last parameter;
/// the callee writes the items, calls <c>end</c>, then returns.</item>
/// <item>A streamed <b>parameter</b>: the callee serves the sink and returns it as the call's result at
/// once; the caller writes the items (pipelined on that result, no round trip) and calls <c>end</c>,
/// whose answer carries the method's result.</item>
/// </list>
/// Called by generated code.
/// </summary>
public static class CapnpStreams
{
    /// <summary>How many bytes of a <see cref="Stream"/> one <c>write</c> carries: 64 KiB.</summary>
    public const int ByteChunkSize = 64 * 1024;

    // ------------------------------------------------------------------ streamed results, caller side

    /// <summary>
    /// Calls a method whose result streams: <paramref name="send"/> starts the call with the sink (of
    /// interface <paramref name="sinkInterfaceId"/>) in its parameters; the items are read from its writes by
    /// <paramref name="read"/>. The call starts when enumeration does; leaving early cancels it.
    /// </summary>
    public static IAsyncEnumerable<T> ReceiveAsync<T>(Capability target, ulong sinkInterfaceId, Func<StructReader, T> read, Func<Capability, CancellationToken, CallPromise> send, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(target);
        ArgumentNullException.ThrowIfNull(read);
        ArgumentNullException.ThrowIfNull(send);
        return ReceiveCoreAsync(target.Connection, sinkInterfaceId, read, send, cancellationToken);
    }

    /// <summary>
    /// Calls a method whose result is a <see cref="Stream"/>: as <see cref="ReceiveAsync{T}"/> with a byte
    /// sink; completes with the stream once the first bytes, the end or the call's error arrived (the error is thrown).
    /// </summary>
    public static async Task<Stream> ReceiveBytesAsync(Capability target, ulong sinkInterfaceId, Func<Capability, CancellationToken, CallPromise> send, CancellationToken cancellationToken)
    {
        var chunks = ReceiveAsync(target, sinkInterfaceId, ReadChunk, send, cancellationToken).GetAsyncEnumerator(cancellationToken);
        var stream = new CapnpByteStreamReader(chunks);
        try
        {
            await stream.PrimeAsync().ConfigureAwait(false);
        }
        catch
        {
            await stream.DisposeAsync().ConfigureAwait(false);
            throw;
        }

        return stream;
    }

    // ------------------------------------------------------------------ streamed results, callee side

    /// <summary>
    /// Writes <paramref name="items"/> into <paramref name="sink"/> (taken over; read from the call's parameters)
    /// with <paramref name="write"/>, then ends it. The call's own answer follows when this completes.
    /// </summary>
    public static async Task SendAsync<T>(CallContext context, Capability? sink, ulong sinkInterfaceId, IAsyncEnumerable<T> items, Action<StructBuilder, T> write, ushort dataWords, ushort pointerCount)
    {
        ArgumentNullException.ThrowIfNull(context);
        ArgumentNullException.ThrowIfNull(items);
        using var sender = new CapnpStreamSender(sink ?? throw NoSink(), sinkInterfaceId);
        var cancellationToken = context.CancellationToken;
        await foreach (var item in items.WithCancellation(cancellationToken).ConfigureAwait(false))
        {
            await sender.WriteAsync(item, write, dataWords, pointerCount, cancellationToken).ConfigureAwait(false);
        }

        using var ended = await sender.EndAsync(cancellationToken).ConfigureAwait(false);
    }

    /// <summary>Writes the <see cref="Stream"/> <paramref name="content"/> produces into <paramref name="sink"/> in chunks of <see cref="ByteChunkSize"/>, then ends it and disposes the stream.</summary>
    public static async Task SendBytesAsync(CallContext context, Capability? sink, ulong sinkInterfaceId, Task<Stream> content)
    {
        ArgumentNullException.ThrowIfNull(context);
        ArgumentNullException.ThrowIfNull(content);
        using var sender = new CapnpStreamSender(sink ?? throw NoSink(), sinkInterfaceId);
        var stream = await content.ConfigureAwait(false) ?? throw new RpcException(RpcStatusCode.Failed, "The method returned a null Stream.");
        await using (stream.ConfigureAwait(false))
        {
            using var ended = await PumpAsync(sender, stream, context.CancellationToken).ConfigureAwait(false);
        }
    }

    // ------------------------------------------------------------------ streamed parameters, caller side

    /// <summary>
    /// Writes <paramref name="items"/> into <paramref name="sink"/> (taken over: the pipelined sink the call
    /// returns) with <paramref name="write"/>, then ends it; returns <c>end</c>'s results, which the caller disposes.
    /// If enumerating the items throws, the sink is released without <c>end</c> and the exception propagates.
    /// </summary>
    public static async Task<CallResponse> SendAsync<T>(Capability sink, ulong sinkInterfaceId, IAsyncEnumerable<T> items, Action<StructBuilder, T> write, ushort dataWords, ushort pointerCount, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(items);
        using var sender = new CapnpStreamSender(sink, sinkInterfaceId);
        await foreach (var item in items.WithCancellation(cancellationToken).ConfigureAwait(false))
        {
            await sender.WriteAsync(item, write, dataWords, pointerCount, cancellationToken).ConfigureAwait(false);
        }

        return await sender.EndAsync(cancellationToken).ConfigureAwait(false);
    }

    /// <summary>Writes <paramref name="content"/> (not disposed) into <paramref name="sink"/> in chunks of <see cref="ByteChunkSize"/>, then ends it; returns <c>end</c>'s results.</summary>
    public static async Task<CallResponse> SendBytesAsync(Capability sink, ulong sinkInterfaceId, Stream content, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(content);
        using var sender = new CapnpStreamSender(sink, sinkInterfaceId);
        return await PumpAsync(sender, content, cancellationToken).ConfigureAwait(false);
    }

    // ------------------------------------------------------------------ streamed parameters, callee side

    /// <summary>
    /// Serves a sink for a streamed parameter and returns it (the caller writes it into the call's results
    /// and disposes its reference). <paramref name="run"/> starts the implementation on the thread pool with
    /// the items and a token that fires when the caller abandons the stream; it returns what writes
    /// <c>end</c>'s results (null for none). <c>end</c> is answered when the implementation completes, with
    /// its error if it fails; once it fails, the caller's writes fail with that error.
    /// </summary>
    public static Capability Serve<T>(CallContext context, ulong sinkInterfaceId, Func<StructReader, T> read, Func<IAsyncEnumerable<T>, CancellationToken, Task<Action<CallContext>?>> run)
    {
        ArgumentNullException.ThrowIfNull(context);
        ArgumentNullException.ThrowIfNull(run);
        var receiver = new CapnpStreamReceiver<T>(sinkInterfaceId, read, QueueLimit(context.Connection));
        return ServeReceiver(receiver, () => run(receiver.ReadAllAsync(), receiver.Cancellation));
    }

    /// <summary>As <see cref="Serve{T}"/>, for a <see cref="Stream"/> parameter (a byte sink).</summary>
    public static Capability ServeBytes(CallContext context, ulong sinkInterfaceId, Func<Stream, CancellationToken, Task<Action<CallContext>?>> run)
    {
        ArgumentNullException.ThrowIfNull(context);
        ArgumentNullException.ThrowIfNull(run);
        var receiver = new CapnpStreamReceiver<ReadOnlyMemory<byte>>(sinkInterfaceId, ReadChunk, QueueLimit(context.Connection));
        return ServeReceiver(receiver, () => run(new CapnpByteStreamReader(receiver.ReadAllAsync().GetAsyncEnumerator()), receiver.Cancellation));
    }

    /// <summary>Writes one chunk as <c>(bytes :Data)</c>.</summary>
    public static void WriteChunk(StructBuilder parameters, ReadOnlyMemory<byte> chunk) => parameters.WriteData(0, chunk.Span);

    /// <summary>Reads one chunk of <c>(bytes :Data)</c>; it stays valid while the chunk is referenced (each message has its own buffer).</summary>
    public static ReadOnlyMemory<byte> ReadChunk(StructReader parameters) => parameters.ReadData(0);

    private static Capability ServeReceiver<T>(CapnpStreamReceiver<T> receiver, Func<Task<Action<CallContext>?>> start)
    {
        var running = Task.Run(start);
        _ = running.ContinueWith(
            static (task, state) =>
            {
                var receiver = (CapnpStreamReceiver<T>)state!;
                if (task.IsCompletedSuccessfully)
                {
                    // Done without reading everything: later writes are answered and dropped until end.
                    receiver.StopReading();
                }
                else
                {
                    receiver.FailProducer(RpcErrors.ToRpcException(task.Exception?.InnerException ?? new OperationCanceledException()));
                }
            },
            receiver,
            CancellationToken.None,
            TaskContinuationOptions.ExecuteSynchronously,
            TaskScheduler.Default);
        receiver.OnEnd = async end => (await running.ConfigureAwait(false))?.Invoke(end);
        return Capability.FromServer(receiver);
    }

    private static async IAsyncEnumerable<T> ReceiveCoreAsync<T>(CapnpConnection? connection, ulong sinkInterfaceId, Func<StructReader, T> read, Func<Capability, CancellationToken, CallPromise> send, [EnumeratorCancellation] CancellationToken cancellationToken)
    {
        var receiver = new CapnpStreamReceiver<T>(sinkInterfaceId, read, QueueLimit(connection));
        using var cancel = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        using var sink = Capability.FromServer(receiver);
        using var promise = send(sink, cancel.Token);
        var answered = WatchAnswerAsync(promise, receiver);
        var finished = false;
        try
        {
            await foreach (var item in receiver.ReadAllAsync(cancellationToken).ConfigureAwait(false))
            {
                yield return item;
            }

            await answered.ConfigureAwait(false);
            finished = true;
        }
        finally
        {
            if (!finished)
            {
                // The consumer left early, or the stream failed: the callee stops producing.
                await cancel.CancelAsync().ConfigureAwait(false);
            }
        }
    }

    // The call's answer ends the items (an error after those already written); its results are empty.
    private static async Task WatchAnswerAsync<T>(CallPromise promise, CapnpStreamReceiver<T> receiver)
    {
        try
        {
            using var response = await promise.Response.ConfigureAwait(false);
            receiver.Complete();
        }
        catch (Exception error)
        {
            receiver.Fail(RpcErrors.ToRpcException(error));
        }
    }

    private static async Task<CallResponse> PumpAsync(CapnpStreamSender sender, Stream content, CancellationToken cancellationToken)
    {
        var buffer = ArrayPool<byte>.Shared.Rent(ByteChunkSize);
        try
        {
            int read;
            while ((read = await content.ReadAsync(buffer.AsMemory(0, ByteChunkSize), cancellationToken).ConfigureAwait(false)) > 0)
            {
                await sender.WriteAsync((ReadOnlyMemory<byte>)buffer.AsMemory(0, read), WriteChunk, 0, 1, cancellationToken).ConfigureAwait(false);
            }
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(buffer);
        }

        return await sender.EndAsync(cancellationToken).ConfigureAwait(false);
    }

    private static long QueueLimit(CapnpConnection? connection) => connection?.Options.MaxStreamBytesInFlight ?? CapnpConnectionOptions.DefaultMaxStreamBytesInFlight;

    private static RpcException NoSink() => new(RpcStatusCode.InvalidPayload, "The call has no stream sink in its parameters.");
}
