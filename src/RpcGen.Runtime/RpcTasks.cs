namespace RpcGen;

/// <summary>Adapts channel results to the return types a contract declares. Called by generated proxies.</summary>
public static class RpcTasks
{
    /// <summary>Adapts a call with no result to <see cref="Task"/>.</summary>
    public static Task AsTask(ValueTask<RpcVoid> call) =>
        call.IsCompletedSuccessfully ? Task.CompletedTask : call.AsTask();

    /// <summary>Adapts a call with no result to <see cref="ValueTask"/>.</summary>
    public static ValueTask AsValueTask(ValueTask<RpcVoid> call)
    {
        if (call.IsCompletedSuccessfully)
        {
            _ = call.Result;
            return default;
        }

        return new ValueTask(call.AsTask());
    }
}
