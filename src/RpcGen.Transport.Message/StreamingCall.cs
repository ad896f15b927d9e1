using System.Buffers;
using System.Diagnostics;
using RpcGen.Serialization;
using RpcGen.Telemetry;

namespace RpcGen.Transport.Message;

/// <summary>
/// An outbound streaming call: a stream of responses (server and duplex streaming) or one response
/// (client streaming), and for client and duplex streaming a stream of requests sent under the
/// server's credit.
/// </summary>
internal sealed class StreamingCall<TRequestItem, TResponse> : PendingCall
{
    private readonly RpcMethodKind _kind;
    private readonly IRpcFormatter<TResponse> _responseFormatter;

    // Client streaming: completed by the Response or Error frame.
    private readonly TaskCompletionSource<TResponse>? _response;

    // Fired when the call is over, so the request sender stops.
    private readonly CancellationTokenSource _over = new();

    // Created by Open, once the call id is known; valid until the call ends.
    private StreamReceiver<TResponse>? _responses;
    private StreamSender? _requests;
    private int _finished;

    // Why the call failed, once it has: Open fails a response stream created after the failure.
    private Exception? _failure;

    private readonly RpcGen.Compression.RpcCompression _codec;

    /// <summary>The client interceptors to tell how the call ended; null when none are registered.</summary>
    public RpcClientCallContext? Observer { get; init; }

    public StreamingCall(MessageConnection connection, RpcMethodInfo method, IRpcFormatter<TResponse> responseFormatter, RpcGen.Compression.RpcCompression codec, Activity? span)
    {
        _codec = codec;
        Connection = connection;
        Method = method;
        _kind = method.Kind;
        _responseFormatter = responseFormatter;
        if (_kind == RpcMethodKind.ClientStreaming)
        {
            _response = new TaskCompletionSource<TResponse>(TaskCreationOptions.RunContinuationsAsynchronously);
        }

        Activity = span;
        StartTimestamp = RpcTelemetry.IsMeasuring ? Stopwatch.GetTimestamp() : 0;
    }

    public override bool EndsWithStream => _kind != RpcMethodKind.ClientStreaming;

    public IAsyncEnumerable<TResponse> Responses => _responses!;

    public Task<TResponse> Response => _response!.Task;

    /// <summary>Creates the stream ends; called once the call is in the table.</summary>
    public void Open(int window)
    {
        if (_kind != RpcMethodKind.ClientStreaming)
        {
            // A full fence: the look at _failure below cannot move ahead of this write.
            Interlocked.Exchange(ref _responses, new StreamReceiver<TResponse>(Connection, CallId, receiverIsCaller: true, _responseFormatter, window, Abandon));
        }

        if (_kind != RpcMethodKind.ServerStreaming)
        {
            _requests = new StreamSender(Connection, CallId, senderIsCaller: true, _codec);
        }

        // The connection may have closed between the call's entry in the table and here, failing a
        // call that had no response stream yet: the stream's reader would then wait for ever. Fail
        // it now (failing it twice, when Fail saw it too, is harmless). The request sender needs
        // nothing: it stops on _over, which End cancelled.
        if (Volatile.Read(ref _failure) is { } failure)
        {
            _responses?.Fail(failure);
        }
    }

    /// <summary>Grants the server its first window; called after the request is written.</summary>
    public void StartReceiving() => _responses?.Start();

    /// <summary>Sends the request stream; ends quietly once the call is over.</summary>
    public async Task SendRequestsAsync(IAsyncEnumerable<TRequestItem> items, IRpcFormatter<TRequestItem> formatter)
    {
        var outcome = await _requests!.SendAsync(items, formatter, _over.Token).ConfigureAwait(false);
        if (outcome is not (RpcStatusCode.Ok or RpcStatusCode.Cancelled or RpcStatusCode.Disconnected) && Connection.TryRemovePending(this))
        {
            // Our own producer failed: the server was told through StreamEnd; fail the call here too.
            Connection.SendCancel(CallId);
            Fail(new RpcException(outcome, "The request stream failed."), outcome);
        }
    }

    public override void CompleteWithPayload(in ReadOnlySequence<byte> payload)
    {
        if (_response is null)
        {
            throw new ProtocolViolation($"The peer sent a single response to streaming call {CallId}.");
        }

        TResponse value;
        try
        {
            value = RpcSerializer.Deserialize(payload, _responseFormatter);
        }
        catch (RpcException ex)
        {
            Fail(ex, ex.StatusCode);
            return;
        }

        End(RpcStatusCode.Ok, exception: null);
        _response.TrySetResult(value);
    }

    public override void Fail(Exception exception, RpcStatusCode status)
    {
        // Kept before End's fence, for a response stream that Open creates after this (see Open).
        Volatile.Write(ref _failure, exception);
        End(status, exception);
        Volatile.Read(ref _responses)?.Fail(exception);
        _response?.TrySetException(exception);
    }

    public override void OnStreamItem(in ReadOnlySequence<byte> payload)
    {
        if (_responses is null)
        {
            base.OnStreamItem(payload);
            return;
        }

        _responses.OnItem(payload);
    }

    public override void OnStreamEnd(RpcException? error)
    {
        if (_responses is null)
        {
            base.OnStreamEnd(error);
            return;
        }

        End(error?.StatusCode ?? RpcStatusCode.Ok, error);
        _responses.OnEnd(error);
    }

    public override void OnCredit(uint bytes)
    {
        if (_requests is null)
        {
            base.OnCredit(bytes);
            return;
        }

        _requests.OnCredit(bytes);
    }

    /// <summary>The consumer stopped reading before the end: cancel the call on the server.</summary>
    private void Abandon() => OnCallerCancelled();

    private void End(RpcStatusCode status, Exception? exception)
    {
        if (Interlocked.Exchange(ref _finished, 1) != 0)
        {
            return;
        }

        Disarm();
        _over.Cancel();
        RpcTelemetry.StopClient(Method, StartTimestamp, status, Activity);
        Observer?.OnStreamingCallEnded(status, exception);
    }
}
