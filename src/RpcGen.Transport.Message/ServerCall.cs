using System.Diagnostics;
using RpcGen.Logging;
using RpcGen.Serialization;
using RpcGen.Telemetry;

namespace RpcGen.Transport.Message;

/// <summary>
/// One inbound call on a <see cref="MessageConnection"/>. It is the <see cref="RpcServerCall"/> the
/// generated dispatcher completes and the <see cref="RpcCallContext"/> the implementation sees.
/// </summary>
internal sealed class ServerCall : RpcServerCall
{
    private readonly MessageConnection _connection;
    private readonly RpcMethodInfo _method;
    private readonly DateTime? _deadlineUtc;
    private readonly long _startTimestamp;
    private readonly Activity? _activity;

    // Created on first use of the token (most methods never ask for it) or at once when a deadline
    // must fire. Cleared (disposed) when the call finishes.
    private CancellationTokenSource? _cancellation;

    // Set when the caller cancelled (or the connection dropped) before anyone asked for the token,
    // so a token created later starts out cancelled.
    private volatile bool _cancelRequested;
    private int _answered;

    public ServerCall(MessageConnection connection, RpcMethodInfo method, uint callId, bool oneWay, long deadlineMicroseconds)
    {
        _connection = connection;
        _method = method;
        CallId = callId;
        IsOneWay = oneWay;
        if (deadlineMicroseconds > 0)
        {
            var remaining = TimeSpan.FromMicroseconds(deadlineMicroseconds);
            _deadlineUtc = DateTime.UtcNow + remaining;
            var cts = new CancellationTokenSource(remaining);
            _cancellation = cts;
        }

        _activity = RpcTelemetry.StartServer(method);
        _startTimestamp = RpcTelemetry.IsMeasuring ? Stopwatch.GetTimestamp() : 0;
    }

    public uint CallId { get; }

    public bool IsOneWay { get; }

    public override RpcMethodInfo Method => _method;

    public override string Peer => _connection.Peer;

    public override DateTime? DeadlineUtc => _deadlineUtc;

    public override CancellationToken CancellationToken
    {
        get
        {
            var cts = Volatile.Read(ref _cancellation);
            if (cts is null)
            {
                var created = new CancellationTokenSource();
                cts = Interlocked.CompareExchange(ref _cancellation, created, null) ?? created;
                if (!ReferenceEquals(cts, created))
                {
                    created.Dispose();
                }
                else if (_cancelRequested)
                {
                    created.Cancel();
                }
            }

            return cts.Token;
        }
    }

    /// <summary>The caller cancelled, or the connection is gone: fire the token.</summary>
    /// <remarks>Not called for the deadline: that fires the token through its own timer.</remarks>
    public void Cancel()
    {
        _cancelRequested = true;
        var cts = Volatile.Read(ref _cancellation);
        try
        {
            cts?.Cancel();
        }
        catch (ObjectDisposedException)
        {
            // The call finished meanwhile.
        }
    }

    protected override void WriteResponse<T>(T value, IRpcFormatter<T> formatter)
    {
        if (Interlocked.Exchange(ref _answered, 1) != 0)
        {
            return;
        }

        if (IsOneWay)
        {
            RpcTelemetry.StopServer(_method, _startTimestamp, RpcStatusCode.Ok, _activity);
            return;
        }

        var status = _connection.SendResponse(CallId, value, formatter);
        RpcTelemetry.StopServer(_method, _startTimestamp, status, _activity);
    }

    protected override void WriteError(Exception exception)
    {
        if (Interlocked.Exchange(ref _answered, 1) != 0)
        {
            return;
        }

        var (code, message) = Describe(exception);
        if (IsOneWay)
        {
            RpcLog.OneWayFailed(_connection.Logger, _method.FullName, exception);
        }
        else
        {
            RpcLog.CallFailed(_connection.Logger, _method.FullName, exception);
            _connection.SendError(CallId, code, message);
        }

        RpcTelemetry.StopServer(_method, _startTimestamp, code, _activity);
    }

    /// <summary>Fails the call with an exception thrown synchronously by dispatch.</summary>
    public void Fail(Exception exception) => WriteError(exception);

    /// <summary>Releases what the call holds once it is answered.</summary>
    public void Finish()
    {
        _connection.OnInboundFinished(this);
        var cts = Interlocked.Exchange(ref _cancellation, null);
        cts?.Dispose();
    }

    /// <summary>Waits for an asynchronous dispatch, then finishes.</summary>
    public async Task FinishAsync(ValueTask completion)
    {
        try
        {
            await completion.ConfigureAwait(false);
        }
        catch (Exception ex)
        {
            // One-way implementations that fail asynchronously end up here.
            WriteError(ex);
        }

        Finish();
    }

    private (RpcStatusCode Code, string Message) Describe(Exception exception) => exception switch
    {
        RpcException rpc => (rpc.StatusCode, rpc.Message),
        // The caller's own cancellation is the only other way the token fires (a dropped connection
        // has no one to answer), so a token that fired without it means the deadline passed.
        OperationCanceledException when _deadlineUtc is not null && !_cancelRequested =>
            (RpcStatusCode.DeadlineExceeded, $"{_method.FullName} did not complete before its deadline."),
        OperationCanceledException => (RpcStatusCode.Cancelled, $"{_method.FullName} was cancelled."),
        _ => (RpcStatusCode.Failed, $"{exception.GetType().Name}: {exception.Message}"),
    };
}
