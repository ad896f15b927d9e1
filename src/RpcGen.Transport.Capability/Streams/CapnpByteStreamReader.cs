namespace RpcGen.Capnp;

/// <summary>
/// A read-only <see cref="Stream"/> over the chunks a byte sink receives (<c>write @0 (bytes :Data) -&gt; stream</c>):
/// what a generated proxy returns for <c>Task&lt;Stream&gt;</c> and a generated server passes for a
/// <c>Stream</c> parameter. Reading takes chunks from the sink, which answers their writes; disposing
/// stops reading (later writes are dropped) and runs <c>onDispose</c> (a proxy cancels its call).
/// </summary>
internal sealed class CapnpByteStreamReader(IAsyncEnumerator<ReadOnlyMemory<byte>> chunks, Action? onDispose = null) : RpcGen.Streams.ChunkReadStream
{
    /// <summary>Waits for the first chunk, the end or the stream's error (which it throws), so a failure before any bytes surfaces at once.</summary>
    public async ValueTask PrimeAsync()
    {
        await FillAsync(CancellationToken.None).ConfigureAwait(false);
    }

    protected override IAsyncEnumerator<ReadOnlyMemory<byte>> OpenChunks() => chunks;

    protected override async ValueTask CloseChunksAsync(RpcGen.Streams.ChunkStepper? stepper)
    {
        onDispose?.Invoke();
        if (stepper is null)
        {
            await chunks.DisposeAsync().ConfigureAwait(false);
        }
        else if (stepper.HasStepRunning)
        {
            // onDispose cancelled the call (on a proxy), which ends the step soon; a server's
            // reader is ended by the peer's next write, its end or the connection's close. The
            // step must end before the enumerator is disposed (a compiler-generated enumerator
            // disposed during a step throws, or completes the step twice, which throws on the
            // thread pool and ends the process).
            _ = DisposeAfterStepAsync(stepper);
        }
        else
        {
            await stepper.DisposeAsync().ConfigureAwait(false);
        }
    }

    private static async Task DisposeAfterStepAsync(RpcGen.Streams.ChunkStepper stepper)
    {
        try
        {
            await stepper.DisposeAsync().ConfigureAwait(false);
        }
        catch (Exception ex) when (ex is RpcException or OperationCanceledException or ObjectDisposedException)
        {
            // Nobody is left to tell: the stream was disposed already.
        }
    }
}
