using System.Buffers;
using System.Collections.Concurrent;
using System.Threading.Tasks.Sources;
using RpcGen.Serialization;
using RpcGen.Telemetry;

namespace RpcGen.Transport.Message;

/// <summary>
/// A pending call whose response is a <typeparamref name="TResponse"/>; pooled, awaited through
/// <see cref="IValueTaskSource{TResult}"/>, or through <see cref="IValueTaskSource"/> by a caller that
/// wants no result (<see cref="VoidTask"/>). Either way the awaiter's <c>GetResult</c> recycles it.
/// </summary>
internal sealed class PendingCall<TResponse> : PendingCall, IValueTaskSource<TResponse>, IValueTaskSource
{
    private const int MaxPooled = 256;
    private static readonly ConcurrentQueue<PendingCall<TResponse>> s_pool = new();

    // Continuations run on the thread pool, never inline on the connection's reader: user code
    // after an await must not be able to stall every other call on the connection.
    private ManualResetValueTaskSourceCore<TResponse> _core = new() { RunContinuationsAsynchronously = true };
    private IRpcFormatter<TResponse> _formatter = null!;

    public static PendingCall<TResponse> Rent(MessageConnection connection, RpcMethodInfo method, IRpcFormatter<TResponse> formatter)
    {
        if (!s_pool.TryDequeue(out var call))
        {
            call = new PendingCall<TResponse>();
        }

        call.Connection = connection;
        call.Method = method;
        call._formatter = formatter;
        return call;
    }

    public ValueTask<TResponse> Task => new(this, _core.Version);

    /// <summary>The call as a <see cref="ValueTask"/> that drops the response: no adapter, no allocation.</summary>
    public ValueTask VoidTask => new(this, _core.Version);

    public override void CompleteWithPayload(in ReadOnlySequence<byte> payload)
    {
        TResponse value;
        try
        {
            value = RpcSerializer.Deserialize(payload, _formatter);
        }
        catch (RpcException ex)
        {
            Fail(ex, ex.StatusCode);
            return;
        }

        Disarm();
        RpcTelemetry.StopClient(Method, StartTimestamp, RpcStatusCode.Ok, Activity);
        _core.SetResult(value);
    }

    public override void Fail(Exception exception, RpcStatusCode status)
    {
        Disarm();
        RpcTelemetry.StopClient(Method, StartTimestamp, status, Activity);
        _core.SetException(exception);
    }

    public TResponse GetResult(short token)
    {
        try
        {
            return _core.GetResult(token);
        }
        finally
        {
            Recycle();
        }
    }

    void IValueTaskSource.GetResult(short token) => GetResult(token);

    public ValueTaskSourceStatus GetStatus(short token) => _core.GetStatus(token);

    public void OnCompleted(Action<object?> continuation, object? state, short token, ValueTaskSourceOnCompletedFlags flags) =>
        _core.OnCompleted(continuation, state, token, flags);

    private void Recycle()
    {
        _core.Reset();
        Connection = null!;
        Method = null!;
        _formatter = null!;
        Activity = null;
        TrailerSink = null;
        StartTimestamp = 0;
        if (s_pool.Count < MaxPooled)
        {
            s_pool.Enqueue(this);
        }
    }
}
