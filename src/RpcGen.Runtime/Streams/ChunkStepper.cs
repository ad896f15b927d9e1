namespace RpcGen.Streams;

/// <summary>
/// Moves a chunk enumerator on for a <see cref="Stream"/> whose reads each carry their own
/// cancellation token. An enumerator's steps must not overlap, so a read cancelled while its step
/// runs leaves the step running: the next read takes it over (its chunk is not lost, and the
/// transfer goes on), and disposal waits for it before disposing the enumerator (a
/// compiler-generated enumerator disposed during a step throws).
/// </summary>
internal sealed class ChunkStepper(IAsyncEnumerator<ReadOnlyMemory<byte>> chunks)
{
    private Task<bool>? _leftRunning;

    /// <summary>The chunk the last completed step moved to.</summary>
    public ReadOnlyMemory<byte> Current => chunks.Current;

    /// <summary>Whether a cancelled read left a step that has not ended yet.</summary>
    public bool HasStepRunning => _leftRunning is { IsCompleted: false };

    /// <summary>
    /// Moves to the next chunk: false at the end. Throws <see cref="OperationCanceledException"/> when
    /// <paramref name="cancellationToken"/> fires first, leaving the step to the next call.
    /// </summary>
    public ValueTask<bool> MoveNextAsync(CancellationToken cancellationToken)
    {
        if (_leftRunning is not null)
        {
            return MoveNextCancellableAsync(_leftRunning, cancellationToken);
        }

        var step = chunks.MoveNextAsync();

        // A step that is done already (the chunk was there) needs no cancellation, nor a task.
        return step.IsCompleted || !cancellationToken.CanBeCanceled ? step : MoveNextCancellableAsync(step.AsTask(), cancellationToken);
    }

    /// <summary>Disposes the enumerator once the step a cancelled read left (if any) has ended; that step's outcome is of no use now.</summary>
    public async ValueTask DisposeAsync()
    {
        if (_leftRunning is { } step)
        {
            _leftRunning = null;
            await ((Task)step).ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing);
        }

        await chunks.DisposeAsync().ConfigureAwait(false);
    }

    private async ValueTask<bool> MoveNextCancellableAsync(Task<bool> step, CancellationToken cancellationToken)
    {
        _leftRunning = null;
        try
        {
            return await step.WaitAsync(cancellationToken).ConfigureAwait(false);
        }
        catch (OperationCanceledException) when (!step.IsCompleted || step.IsCompletedSuccessfully)
        {
            // This read's token fired, not the step's own: whatever the step brings (even if it
            // came in the same instant) belongs to the next read.
            _leftRunning = step;
            throw;
        }
    }
}
