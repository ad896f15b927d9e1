using System.Collections.Concurrent;

namespace RpcGen.Transport.Message.Tests;

/// <summary>The server side of the scenarios: every method signals what it saw so tests can await it.</summary>
public sealed class ScenarioService : IScenarioService, IOtherService
{
    private readonly ConcurrentDictionary<int, TaskCompletionSource<int>> _gates = new();
    private readonly ConcurrentDictionary<string, TaskCompletionSource> _started = new();
    private readonly ConcurrentDictionary<string, TaskCompletionSource<bool>> _cancelled = new();

    public Channel<string> Notifications { get; } = Channel.CreateUnbounded<string>();

    /// <summary>How many times each <see cref="AddAsync"/> pair ran, so a test can prove no call ran twice.</summary>
    public ConcurrentDictionary<(int A, int B), int> AddCalls { get; } = new();

    public TaskCompletionSource<int> Gate(int id) =>
        _gates.GetOrAdd(id, _ => new TaskCompletionSource<int>(TaskCreationOptions.RunContinuationsAsynchronously));

    public Task Started(string key) => StartedSource(key).Task;

    /// <summary>Completes with true when the server-side token of <paramref name="key"/> fired.</summary>
    public Task<bool> ServerSawCancellation(string key) => CancelledSource(key).Task;

    public Task<Shape> EchoAsync(Shape shape, CancellationToken cancellationToken = default) => Task.FromResult(shape);

    public ValueTask<int> AddAsync(int a, int b)
    {
        AddCalls.AddOrUpdate((a, b), 1, static (_, count) => count + 1);
        return new(a + b);
    }

    public void Notify(string message) => Notifications.Writer.TryWrite(message);

    public ValueTask NotifyAsync(string message)
    {
        Notifications.Writer.TryWrite(message);
        return default;
    }

    public async Task WaitUntilCancelledAsync(string key, CancellationToken cancellationToken)
    {
        StartedSource(key).TrySetResult();
        try
        {
            await Task.Delay(Timeout.Infinite, cancellationToken);
        }
        catch (OperationCanceledException)
        {
            CancelledSource(key).TrySetResult(true);
            throw;
        }
    }

    public Task<double?> RemainingMillisecondsAsync() =>
        Task.FromResult(RpcCallContext.Current?.RemainingTime?.TotalMilliseconds);

    public Task FailAsync(string message) => throw new InvalidOperationException(message);

    public Task<int> GateAsync(int id) => Gate(id).Task;

    public Task<string?> PeerAsync() => Task.FromResult(RpcCallContext.Current?.Peer);

    public Task<byte[]> BlobAsync(int size) => Task.FromResult(new byte[size]);

    public Task<string> PingAsync(string text) => Task.FromResult("pong:" + text);

    private TaskCompletionSource StartedSource(string key) =>
        _started.GetOrAdd(key, _ => new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously));

    private TaskCompletionSource<bool> CancelledSource(string key) =>
        _cancelled.GetOrAdd(key, _ => new TaskCompletionSource<bool>(TaskCreationOptions.RunContinuationsAsynchronously));
}
