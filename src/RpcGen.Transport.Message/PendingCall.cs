using System.Buffers;
using System.Diagnostics;

namespace RpcGen.Transport.Message;

/// <summary>
/// An outbound two-way call waiting for its answer. The connection's table of pending calls is the
/// single arbiter of how a call ends: whoever removes the entry (the response, a cancellation, the
/// deadline or the disconnect) completes it, exactly once.
/// </summary>
internal abstract class PendingCall
{
    // Valid from Start until the call completes; the call id is unique among this connection's
    // calls in flight.
    public uint CallId;
    public RpcMethodInfo Method = null!;

    // Whether the call is in its connection's OutboundCalls table: set there under the table's lock
    // when it is added, cleared under it when it leaves. Read without the lock only by the reader's
    // stream-item shortcut (OutboundCalls.FindForStreamItem).
    public volatile bool Listed;
    public MessageConnection Connection = null!;

    // Where the trailers that come back with the answer go (the caller's RpcMetadataScope or its
    // interceptors' context); null when nobody asked for them. Set before the request is sent.
    public IRpcTrailerSink? TrailerSink;

    // Telemetry of this call; zero/null when nobody listens.
    public long StartTimestamp;
    public Activity? Activity;

    // Registered only when the caller's token can cancel or a deadline is set; unregistered on
    // completion so a late callback cannot touch a recycled call.
    protected CancellationTokenRegistration _cancellation;
    protected CancellationTokenSource? _deadlineTimer;
    protected CancellationTokenRegistration _deadlineRegistration;
    protected CancellationToken _callerToken;

    /// <summary>Arms cancellation and the deadline; called after the call is in the table.</summary>
    public void Arm(CancellationToken cancellationToken, TimeSpan? timeout)
    {
        _callerToken = cancellationToken;
        if (cancellationToken.CanBeCanceled)
        {
            _cancellation = cancellationToken.UnsafeRegister(static state => ((PendingCall)state!).OnCallerCancelled(), this);
        }

        if (timeout is { } remaining)
        {
            _deadlineTimer = new CancellationTokenSource(remaining);
            _deadlineRegistration = _deadlineTimer.Token.UnsafeRegister(static state => ((PendingCall)state!).OnDeadline(), this);
        }
    }

    /// <summary>Reads the response payload and completes the call. Runs on the connection's reader.</summary>
    public abstract void CompleteWithPayload(in ReadOnlySequence<byte> payload);

    /// <summary>Fails the call.</summary>
    public abstract void Fail(Exception exception, RpcStatusCode status);

    /// <summary>An item of the call's response stream arrived.</summary>
    public virtual void OnStreamItem(in ReadOnlySequence<byte> payload) =>
        throw new ProtocolViolation($"The peer sent a stream item for call {CallId}, which has no response stream.");

    /// <summary>The call's response stream ended; the call was removed from the table.</summary>
    public virtual void OnStreamEnd(RpcException? error) =>
        throw new ProtocolViolation($"The peer ended a stream of call {CallId}, which has no response stream.");

    /// <summary>The server granted credit for the call's request stream.</summary>
    public virtual void OnCredit(uint bytes) =>
        throw new ProtocolViolation($"The peer granted credit for call {CallId}, which has no request stream.");

    /// <summary>The call's response ends its stream; true for shapes whose answer is a stream.</summary>
    public virtual bool EndsWithStream => false;

    protected void OnCallerCancelled()
    {
        if (Connection.TryRemovePending(this))
        {
            Connection.SendCancel(CallId);
            Fail(new OperationCanceledException("The call was cancelled by the caller.", _callerToken), RpcStatusCode.Cancelled);
        }
    }

    private void OnDeadline()
    {
        if (Connection.TryRemovePending(this))
        {
            Connection.SendCancel(CallId);
            Fail(new RpcException(RpcStatusCode.DeadlineExceeded, $"The call to {Method.FullName} did not complete before its deadline."), RpcStatusCode.DeadlineExceeded);
        }
    }

    protected void Disarm()
    {
        // Dispose waits for a callback that is running on another thread, so once this returns no
        // late callback can touch the call after it is recycled. (Called from inside the callback
        // itself, it does not wait.)
        _cancellation.Dispose();
        _cancellation = default;
        if (_deadlineTimer is not null)
        {
            _deadlineRegistration.Dispose();
            _deadlineRegistration = default;
            _deadlineTimer.Dispose();
            _deadlineTimer = null;
        }

        _callerToken = default;
    }
}
