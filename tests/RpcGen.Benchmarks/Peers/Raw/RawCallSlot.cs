using System.Threading.Tasks.Sources;
using RpcGen.Benchmarks.Contracts;

namespace RpcGen.Benchmarks.Peers.Raw;

/// <summary>
/// One reusable outstanding call of <see cref="RawClient"/>: the request buffer and the awaitable the
/// caller waits on. It is rented for a call and goes back to the pool when the caller takes the
/// result, so a call allocates nothing of its own. The typed interfaces let the client hand out
/// <see cref="ValueTask{TResult}"/> of the DTO types without a wrapper.
/// </summary>
internal sealed class RawCallSlot(RawClient owner, uint id) :
    IValueTaskSource<object?>,
    IValueTaskSource<SmallMessage>,
    IValueTaskSource<BenchmarkMessage>,
    IValueTaskSource<byte[]>
{
    // The receive loop completes the call and the caller's continuation runs right there, which
    // is the cheapest hand-off available; the caller never blocks, so this cannot stall the loop.
    private ManualResetValueTaskSourceCore<object?> _core = new() { RunContinuationsAsynchronously = false };

    public uint Id { get; } = id;

    public RawBuffer Request { get; } = new(1024);

    public short Version => _core.Version;

    /// <summary>Items counted by the receive loop during a server stream.</summary>
    public long StreamedItems { get; set; }

    public void SetResult(object? value) => _core.SetResult(value);

    public void SetException(Exception error) => _core.SetException(error);

    public ValueTaskSourceStatus GetStatus(short token) => _core.GetStatus(token);

    public void OnCompleted(Action<object?> continuation, object? state, short token, ValueTaskSourceOnCompletedFlags flags) =>
        _core.OnCompleted(continuation, state, token, flags);

    public object? GetResult(short token)
    {
        try
        {
            return _core.GetResult(token);
        }
        finally
        {
            _core.Reset();
            StreamedItems = 0;
            Request.Reset();
            owner.Return(this);
        }
    }

    SmallMessage IValueTaskSource<SmallMessage>.GetResult(short token) => (SmallMessage)GetResult(token)!;

    BenchmarkMessage IValueTaskSource<BenchmarkMessage>.GetResult(short token) => (BenchmarkMessage)GetResult(token)!;

    byte[] IValueTaskSource<byte[]>.GetResult(short token) => (byte[])GetResult(token)!;
}
