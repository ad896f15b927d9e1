using System.Runtime.CompilerServices;
using RpcGen.Serialization;

namespace RpcGen;

/// <summary>
/// One inbound call as a transport presents it to a generated dispatcher. The dispatcher hands the
/// implementation's task to one of the <c>Complete*</c> methods, which write the response or the
/// error when the task finishes; a transport implements the two writes.
/// </summary>
/// <remarks>The call is also the <see cref="RpcCallContext"/> the implementation sees, so serving a call costs one object.</remarks>
public abstract class RpcServerCall : RpcCallContext
{
    /// <summary>Writes a successful response. Called at most once per call.</summary>
    protected abstract void WriteResponse<T>(T value, IRpcFormatter<T> formatter);

    /// <summary>Writes the error a failed implementation produced. Called at most once per call.</summary>
    protected abstract void WriteError(Exception exception);

    /// <summary>
    /// The stream of items the client sends with a client- or duplex-streaming call. Enumerate it
    /// once; credit is granted to the client as items are consumed.
    /// </summary>
    public virtual IAsyncEnumerable<TItem> GetRequestStream<TItem>(IRpcFormatter<TItem> formatter) =>
        throw new NotSupportedException($"{GetType().Name} does not support streaming calls.");

    /// <summary>
    /// Completes a server- or duplex-streaming call: sends every item of <paramref name="items"/> as
    /// the client grants credit, then the end of the stream (or the error the enumeration threw).
    /// The enumeration gets <see cref="RpcCallContext.CancellationToken"/>.
    /// </summary>
    public virtual ValueTask CompleteStreamAsync<TItem>(IAsyncEnumerable<TItem> items, IRpcFormatter<TItem> formatter) =>
        throw new NotSupportedException($"{GetType().Name} does not support streaming calls.");

    /// <summary>Completes a server-streaming call whose implementation returns the stream through a task (e.g. <c>Task&lt;Stream&gt;</c> adapted to chunks).</summary>
    public ValueTask CompleteStreamAsync<TItem>(Task<IAsyncEnumerable<TItem>> items, IRpcFormatter<TItem> formatter) =>
        items.IsCompletedSuccessfully ? CompleteStreamAsync(items.Result, formatter) : AwaitStreamAsync(items, formatter);

    /// <summary>Completes a call whose implementation returned <see cref="Task{TResult}"/>.</summary>
    public ValueTask CompleteAsync<T>(Task<T> task, IRpcFormatter<T> formatter)
    {
        if (task.IsCompletedSuccessfully)
        {
            WriteResponse(task.Result, formatter);
            return default;
        }

        return AwaitAndComplete(task, formatter);
    }

    /// <summary>Completes a call whose implementation returned <see cref="ValueTask{TResult}"/>.</summary>
    public ValueTask CompleteAsync<T>(ValueTask<T> task, IRpcFormatter<T> formatter)
    {
        if (task.IsCompletedSuccessfully)
        {
            WriteResponse(task.Result, formatter);
            return default;
        }

        return AwaitAndComplete(task.AsTask(), formatter);
    }

    /// <summary>Completes a call whose implementation returned <see cref="Task"/>.</summary>
    public ValueTask CompleteAsync(Task task)
    {
        if (task.IsCompletedSuccessfully)
        {
            WriteResponse(RpcVoid.Value, RpcVoidFormatter.Instance);
            return default;
        }

        return AwaitAndComplete(task);
    }

    /// <summary>Completes a call whose implementation returned <see cref="ValueTask"/>.</summary>
    public ValueTask CompleteAsync(ValueTask task)
    {
        if (task.IsCompletedSuccessfully)
        {
            WriteResponse(RpcVoid.Value, RpcVoidFormatter.Instance);
            return default;
        }

        return AwaitAndComplete(task.AsTask());
    }

    /// <summary>Completes a one-way call whose implementation returned <see cref="ValueTask"/>: nothing is written back, a failure is only logged.</summary>
    public ValueTask CompleteOneWayAsync(ValueTask task)
    {
        if (task.IsCompletedSuccessfully)
        {
            return default;
        }

        return task;
    }

    /// <summary>Completes a one-way call whose implementation returned <see cref="Task"/>.</summary>
    public ValueTask CompleteOneWayAsync(Task task) =>
        task.IsCompletedSuccessfully ? default : new ValueTask(task);

    private async ValueTask AwaitStreamAsync<TItem>(Task<IAsyncEnumerable<TItem>> items, IRpcFormatter<TItem> formatter)
    {
        IAsyncEnumerable<TItem> stream;
        try
        {
            stream = await items.ConfigureAwait(false);
        }
        catch (Exception ex)
        {
            WriteError(ex);
            return;
        }

        await CompleteStreamAsync(stream, formatter).ConfigureAwait(false);
    }

    [AsyncMethodBuilder(typeof(PoolingAsyncValueTaskMethodBuilder))]
    private async ValueTask AwaitAndComplete<T>(Task<T> task, IRpcFormatter<T> formatter)
    {
        T value;
        try
        {
            value = await task.ConfigureAwait(false);
        }
        catch (Exception ex)
        {
            WriteError(ex);
            return;
        }

        WriteResponse(value, formatter);
    }

    [AsyncMethodBuilder(typeof(PoolingAsyncValueTaskMethodBuilder))]
    private async ValueTask AwaitAndComplete(Task task)
    {
        try
        {
            await task.ConfigureAwait(false);
        }
        catch (Exception ex)
        {
            WriteError(ex);
            return;
        }

        WriteResponse(RpcVoid.Value, RpcVoidFormatter.Instance);
    }
}
