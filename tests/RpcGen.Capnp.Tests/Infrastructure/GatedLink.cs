using System.IO.Pipelines;

namespace RpcGen.Capnp.Tests.Infrastructure;

/// <summary>
/// Wraps a link so that nothing received is handed to the protocol until <see cref="Open"/>: lets a
/// test prove that messages were sent before any reply could have been read.
/// </summary>
internal sealed class GatedLink(IDuplexPipe inner, IAsyncDisposable owner) : IDuplexPipe, IAsyncDisposable
{
    private readonly TaskCompletionSource _open = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private GatedReader? _reader;

    public PipeReader Input => _reader ??= new GatedReader(inner.Input, _open.Task);

    public PipeWriter Output => inner.Output;

    public void Open() => _open.TrySetResult();

    public ValueTask DisposeAsync()
    {
        Open();
        return owner.DisposeAsync();
    }

    private sealed class GatedReader(PipeReader inner, Task gate) : PipeReader
    {
        public override void AdvanceTo(SequencePosition consumed) => inner.AdvanceTo(consumed);

        public override void AdvanceTo(SequencePosition consumed, SequencePosition examined) => inner.AdvanceTo(consumed, examined);

        public override void CancelPendingRead() => inner.CancelPendingRead();

        public override void Complete(Exception? exception = null) => inner.Complete(exception);

        public override async ValueTask<ReadResult> ReadAsync(CancellationToken cancellationToken = default)
        {
            await gate.WaitAsync(cancellationToken);
            return await inner.ReadAsync(cancellationToken);
        }

        public override bool TryRead(out ReadResult result)
        {
            if (!gate.IsCompleted)
            {
                result = default;
                return false;
            }

            return inner.TryRead(out result);
        }
    }
}
