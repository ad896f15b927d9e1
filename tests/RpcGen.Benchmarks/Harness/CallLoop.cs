using System.Diagnostics;

namespace RpcGen.Benchmarks.Harness;

/// <summary>
/// Runs one caller: call, await, record, until the recorder says stop. The loop is generic over the
/// result so no peer's awaitable is wrapped in another (which would add allocations to every call);
/// its own state machine is allocated once per phase, not per call.
/// </summary>
public static class CallLoop
{
    public static async Task RunAsync<T>(Func<ValueTask<T>> call, CallerRecorder recorder)
    {
        while (recorder.ShouldContinue)
        {
            var start = Stopwatch.GetTimestamp();
            await call().ConfigureAwait(false);
            recorder.Record(start);
        }
    }

    public static async Task RunAsync(Func<ValueTask> call, CallerRecorder recorder)
    {
        while (recorder.ShouldContinue)
        {
            var start = Stopwatch.GetTimestamp();
            await call().ConfigureAwait(false);
            recorder.Record(start);
        }
    }
}
