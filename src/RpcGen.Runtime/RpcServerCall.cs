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
