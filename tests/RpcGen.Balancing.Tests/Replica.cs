using System.Collections.Concurrent;
using System.Threading.Channels;

namespace RpcGen.Balancing.Tests;

/// <summary>
/// One in-process replica: counts the calls it ran, can hold them at a gate, can fail reads, and
/// records each call's attempt header, deadline and cancellation so tests can await them.
/// </summary>
internal sealed class Replica(string name) : IReplicaService
{
    private int _calls;
    private volatile TaskCompletionSource? _gate;

    public string Name { get; } = name;

    /// <summary>Calls that reached the implementation.</summary>
    public int Calls => Volatile.Read(ref _calls);

    /// <summary>Each call as it arrives: its id and the attempt header it carried (null on a first attempt).</summary>
    public Channel<(int Id, string? Attempt, DateTime? Deadline)> Arrivals { get; } = Channel.CreateUnbounded<(int, string?, DateTime?)>();

    /// <summary>Ids of calls whose cancellation reached this replica.</summary>
    public Channel<int> Cancellations { get; } = Channel.CreateUnbounded<int>();

    /// <summary>When set, calls fail with this code (so a retry or hedge must go elsewhere).</summary>
    public RpcStatusCode? FailWith { get; set; }

    public ConcurrentBag<int> Completed { get; } = new();

    /// <summary>Holds every later call until <see cref="Release"/>.</summary>
    public void Hold() => _gate = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);

    public void Release() => _gate?.TrySetResult();

    public Task<string> WorkAsync(int id) => AnswerAsync(id);

    public Task<string> ReadAsync(int id, CancellationToken cancellationToken) => AnswerAsync(id);

    public async IAsyncEnumerable<string> WatchAsync(int count)
    {
        Interlocked.Increment(ref _calls);
        for (var i = 0; i < count; i++)
        {
            await Task.Yield();
            yield return Name;
        }
    }

    private async Task<string> AnswerAsync(int id)
    {
        await ArriveAsync(id);
        if (FailWith is { } code)
        {
            throw new RpcException(code, $"{Name} fails its calls.");
        }

        Completed.Add(id);
        return Name;
    }

    private async Task ArriveAsync(int id)
    {
        Interlocked.Increment(ref _calls);
        var context = RpcCallContext.Current!;
        Arrivals.Writer.TryWrite((id, context.RequestHeaders.GetString(RpcBalancedClient.AttemptHeader), context.DeadlineUtc));
        if (_gate is { } gate)
        {
            try
            {
                await gate.Task.WaitAsync(context.CancellationToken);
            }
            catch (OperationCanceledException)
            {
                Cancellations.Writer.TryWrite(id);
                throw;
            }
        }
    }
}
