namespace RpcGen.Capnp.Tests.Streaming;

/// <summary>
/// A read of a Cap'n Proto byte stream that is cancelled while it waits for a chunk leaves the chunk
/// enumerator's step running. The next read must take that step over (steps never overlap), and
/// disposing the stream must wait for the step to end before disposing the enumerator: a
/// compiler-generated async iterator disposed during a step throws, or completes the step twice,
/// which throws on the thread pool and ends the process.
/// </summary>
public class ByteStreamReaderCancellationTests
{
    private static readonly TimeSpan Timeout = TimeSpan.FromSeconds(30);

    [Fact]
    public async Task A_read_after_a_cancelled_read_takes_over_its_step()
    {
        var chunks = new HandSteppedChunks();
        var reader = new CapnpByteStreamReader(chunks);
        using var cancel = new CancellationTokenSource();
        var buffer = new byte[16];

        var first = reader.ReadAsync(buffer, cancel.Token).AsTask();
        await chunks.StepStarted.WaitAsync(Timeout);
        await cancel.CancelAsync();
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => first.WaitAsync(Timeout));

        var second = reader.ReadAsync(buffer, TestContext.Current.CancellationToken).AsTask();
        chunks.Complete([1, 2, 3]);
        Assert.Equal(3, await second.WaitAsync(Timeout));
        Assert.Equal(new byte[] { 1, 2, 3 }, buffer[..3]);
        Assert.Equal(1, chunks.Steps);
        Assert.False(chunks.StepsOverlapped);
        await reader.DisposeAsync();
    }

    [Fact]
    public async Task Disposing_after_a_cancelled_read_waits_for_its_step_before_disposing_the_chunks()
    {
        var chunks = new HandSteppedChunks();
        var cancelledCall = false;
        var reader = new CapnpByteStreamReader(chunks, () => cancelledCall = true);
        using var cancel = new CancellationTokenSource();

        var read = reader.ReadAsync(new byte[16], cancel.Token).AsTask();
        await chunks.StepStarted.WaitAsync(Timeout);
        await cancel.CancelAsync();
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => read.WaitAsync(Timeout));

        await reader.DisposeAsync();
        Assert.True(cancelledCall);
        Assert.False(chunks.Disposed.IsCompleted, "the chunks were disposed while their step ran");

        // The call's cancellation ends the step; only then are the chunks disposed.
        chunks.Complete([4]);
        await chunks.Disposed.WaitAsync(Timeout);
        Assert.False(chunks.DisposedDuringStep);
    }

    // Chunks whose steps the test completes by hand; it records steps that overlap and a disposal
    // during a step, which it refuses as a compiler-generated async iterator does.
    private sealed class HandSteppedChunks : IAsyncEnumerator<ReadOnlyMemory<byte>>
    {
        private readonly TaskCompletionSource _stepStarted = new(TaskCreationOptions.RunContinuationsAsynchronously);
        private readonly TaskCompletionSource _disposed = new(TaskCreationOptions.RunContinuationsAsynchronously);
        private TaskCompletionSource<bool>? _step;

        public ReadOnlyMemory<byte> Current { get; private set; }

        public int Steps { get; private set; }

        public bool StepsOverlapped { get; private set; }

        public bool DisposedDuringStep { get; private set; }

        public Task StepStarted => _stepStarted.Task;

        public Task Disposed => _disposed.Task;

        public ValueTask<bool> MoveNextAsync()
        {
            StepsOverlapped |= _step is not null;
            Steps++;
            _step = new TaskCompletionSource<bool>(TaskCreationOptions.RunContinuationsAsynchronously);
            _stepStarted.TrySetResult();
            return new ValueTask<bool>(_step.Task);
        }

        public void Complete(byte[] chunk)
        {
            var step = _step!;
            _step = null;
            Current = chunk;
            step.SetResult(true);
        }

        public ValueTask DisposeAsync()
        {
            if (_step is not null)
            {
                DisposedDuringStep = true;
                throw new NotSupportedException("disposed during a step");
            }

            _disposed.TrySetResult();
            return ValueTask.CompletedTask;
        }
    }
}
