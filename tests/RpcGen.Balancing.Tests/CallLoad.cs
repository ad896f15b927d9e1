namespace RpcGen.Balancing.Tests;

/// <summary>
/// Load for the drain tests: callers each making calls back to back (bounded in number) until
/// stopped, counting completions and keeping every failure.
/// </summary>
internal sealed class CallLoad
{
    private readonly CancellationTokenSource _stop = new();
    private readonly List<Exception> _failures = new();
    private readonly List<Task> _callers;
    private int _completed;

    /// <param name="callers">How many callers run at once.</param>
    /// <param name="call">One call: the caller's number and the call's number.</param>
    public CallLoad(int callers, Func<int, int, Task> call) =>
        _callers = Enumerable.Range(0, callers).Select(caller => RunAsync(caller, call)).ToList();

    public int Completed => Volatile.Read(ref _completed);

    /// <summary>Stops the callers, waits for their last calls, and returns every failure they met.</summary>
    public async Task<IReadOnlyList<Exception>> StopAsync(TimeSpan timeout)
    {
        await _stop.CancelAsync();
        await Task.WhenAll(_callers).WaitAsync(timeout);
        lock (_failures)
        {
            return [.. _failures];
        }
    }

    private async Task RunAsync(int caller, Func<int, int, Task> call)
    {
        await Task.Yield();
        for (var i = 0; !_stop.IsCancellationRequested && i < 1_000_000; i++)
        {
            try
            {
                await call(caller, i);
                Interlocked.Increment(ref _completed);
            }
            catch (Exception ex)
            {
                lock (_failures)
                {
                    _failures.Add(ex);
                }
            }
        }
    }
}
