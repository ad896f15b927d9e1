using System.Threading.Tasks.Sources;

namespace RpcGen.Transport.Message.Tests;

[RpcService(0x5E57_0000_0000_0050)]
public interface ISteppedStreamService
{
    /// <summary>The numbers the test hands the producer, one step at a time.</summary>
    [RpcMethod(1)]
    IAsyncEnumerable<int> SteppedAsync(CancellationToken cancellationToken = default);
}

/// <summary>
/// The server disposes a response stream's producer only once no step of it runs. An async iterator
/// disposed while its <c>MoveNextAsync</c> is finishing completes that step a second time, and the
/// <see cref="InvalidOperationException"/> that throws on the thread pool kills the process: this
/// crashed the test host once, when a hostile-input test closed a connection while
/// <see cref="StreamingService.CountAsync"/> was between two items.
/// </summary>
public class StreamProducerDisposalTests
{
    private static readonly TimeSpan Timeout = TransportFixture.Timeout;

    [Theory]
    [MemberData(nameof(TransportFixture.Transports), MemberType = typeof(TransportFixture))]
    public async Task A_producer_is_disposed_only_after_the_step_it_was_on_when_the_connection_closed(string transport)
    {
        var producer = new SteppedProducer();
        await using var server = new RpcServer(TransportFixture.ServerOptions(transport));
        server.AddService<ISteppedStreamService>(producer);
        await server.StartAsync(TransportFixture.NewAddress(transport));
        var client = await TransportFixture.ConnectToAsync(server.Addresses[0]);
        await using var responses = client.GetService<ISteppedStreamService>().SteppedAsync().GetAsyncEnumerator();
        var firstResponse = responses.MoveNextAsync().AsTask();
        Assert.Equal(1, await producer.StepsStarted.ReadAsync().AsTask().WaitAsync(Timeout));

        // The client goes away while the producer works on its first item: the server closes the
        // connection, then cancels the call.
        await client.DisposeAsync();
        await producer.Cancelled.WaitAsync(Timeout);
        await Assert.ThrowsAsync<RpcException>(() => firstResponse.WaitAsync(Timeout));

        // The first item comes. The sender (run to its next wait on this thread) builds its frame,
        // asks for the next item, and, as that step is not done, sends what it has: the connection
        // is closed, so the send fails while the second step runs.
        producer.Step(more: true);
        Assert.Equal(2, await producer.StepsStarted.ReadAsync().AsTask().WaitAsync(Timeout));
        producer.Step(more: false);

        Assert.False(await producer.Disposed.WaitAsync(Timeout), "The producer was disposed while its second step ran.");
        Assert.False(producer.Overlapped, "A step was asked for while the one before it ran.");
    }

    /// <summary>
    /// A response stream whose steps the test completes, recording how the server used it. A step
    /// completes inline (no <c>RunContinuationsAsynchronously</c>): the sender then runs on the test's
    /// thread up to its next wait before <see cref="Step"/> returns, so what it does with the next
    /// step is done by then.
    /// </summary>
    private sealed class SteppedProducer : ISteppedStreamService, IAsyncEnumerable<int>, IAsyncEnumerator<int>, IValueTaskSource<bool>
    {
        private readonly TaskCompletionSource _cancelled = new(TaskCreationOptions.RunContinuationsAsynchronously);
        private readonly TaskCompletionSource<bool> _disposed = new(TaskCreationOptions.RunContinuationsAsynchronously);
        private readonly Channel<int> _stepsStarted = Channel.CreateUnbounded<int>();
        private ManualResetValueTaskSourceCore<bool> _step;
        private int _stepsTaken;

        // 1 from MoveNextAsync until the test completes that step.
        private int _stepping;
        private volatile bool _overlapped;

        public int Current { get; private set; }

        /// <summary>The number of each step the server asked for, as it asked.</summary>
        public ChannelReader<int> StepsStarted => _stepsStarted.Reader;

        /// <summary>Completes when the call's token (given to <see cref="GetAsyncEnumerator"/>) fires.</summary>
        public Task Cancelled => _cancelled.Task;

        /// <summary>Completes on disposal, with whether a step was still running then.</summary>
        public Task<bool> Disposed => _disposed.Task;

        /// <summary>Whether the server asked for a step while the one before it ran.</summary>
        public bool Overlapped => _overlapped;

        public IAsyncEnumerable<int> SteppedAsync(CancellationToken cancellationToken = default) => this;

        public IAsyncEnumerator<int> GetAsyncEnumerator(CancellationToken cancellationToken = default)
        {
            cancellationToken.UnsafeRegister(static state => ((TaskCompletionSource)state!).TrySetResult(), _cancelled);
            return this;
        }

        public ValueTask<bool> MoveNextAsync()
        {
            if (Interlocked.Exchange(ref _stepping, 1) == 1)
            {
                _overlapped = true;
            }

            _step.Reset();
            _stepsStarted.Writer.TryWrite(++_stepsTaken);
            return new ValueTask<bool>(this, _step.Version);
        }

        /// <summary>Completes the running step: an item (its number) when <paramref name="more"/>, else the end.</summary>
        public void Step(bool more)
        {
            Current = _stepsTaken;
            Volatile.Write(ref _stepping, 0);
            _step.SetResult(more);
        }

        public ValueTask DisposeAsync()
        {
            _disposed.TrySetResult(Volatile.Read(ref _stepping) == 1);
            return default;
        }

        bool IValueTaskSource<bool>.GetResult(short token) => _step.GetResult(token);

        ValueTaskSourceStatus IValueTaskSource<bool>.GetStatus(short token) => _step.GetStatus(token);

        void IValueTaskSource<bool>.OnCompleted(Action<object?> continuation, object? state, short token, ValueTaskSourceOnCompletedFlags flags) =>
            _step.OnCompleted(continuation, state, token, flags);
    }
}
