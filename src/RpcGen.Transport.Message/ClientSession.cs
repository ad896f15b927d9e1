using System.Runtime.CompilerServices;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using RpcGen.Links;

namespace RpcGen.Transport.Message;

/// <summary>
/// What an <see cref="RpcClient"/> calls through: its current connection and, when the client
/// reconnects (<see cref="RpcClientOptions.Reconnect"/>), the loop that replaces a dropped one.
/// </summary>
/// <remarks>
/// <para>
/// A client that does not reconnect passes every call straight to its one connection, as it always
/// did; its state goes Ready → Shutdown when that connection closes.
/// </para>
/// <para>
/// A reconnecting client: when the connection drops, calls in flight on it fail with
/// <see cref="RpcStatusCode.Disconnected"/> (the server may or may not have run them), except calls
/// to <c>[Idempotent]</c> methods, which are re-sent once on the next connection. The state goes
/// Ready → Connecting (an immediate attempt) → TransientFailure (backoff) → Connecting … → Ready.
/// Calls made while not Ready wait for Ready (wait-for-ready, bounded by their deadline and
/// cancellation) or fail at once with <see cref="RpcStatusCode.Disconnected"/>. Objects exported to
/// the server over the old connection (callbacks) were released when it closed; imports from it fail.
/// </para>
/// <para>
/// Story of a swap: the reconnect loop sets <c>_current</c> to the new connection and then completes
/// <c>_ready</c>; a caller reads <c>_current</c> and, if it does not accept calls, awaits <c>_ready</c>
/// and reads <c>_current</c> again. Only the loop, <see cref="OnConnectionClosed"/> and
/// <see cref="DisposeAsync"/> write <c>_current</c>, <c>_ready</c> and <c>_failure</c>, under <c>_gate</c>;
/// the state is published after the lock is released, because <c>StateChanged</c> handlers are user code.
/// </para>
/// </remarks>
internal sealed class ClientSession : IRpcChannel, IAsyncDisposable
{
    private readonly string? _address;
    private readonly RpcClientOptions _options;
    private readonly ILogger _logger;
    private readonly Lock _gate = new();
    private readonly CancellationTokenSource _disposing = new();
    private readonly TaskCompletionSource _shutdown = new(TaskCreationOptions.RunContinuationsAsynchronously);

    // The connection calls go to: replaced by the reconnect loop with one whose handshake completed.
    private volatile MessageConnection _current;

    // Completed while the state is Ready (or Shutdown, to release waiters); replaced by an incomplete
    // one when the connection drops.
    private TaskCompletionSource _ready = NewReady(completed: true);

    // Why the client is not connected now (the drop, or the last failed attempt); null while Ready.
    private volatile RpcException? _failure;

    // Set once, when a reconnection attempt was refused (PermissionDenied) and the client stopped
    // reconnecting: every call from then on fails with it.
    private volatile RpcException? _refused;
    private Task? _maintaining;

    private ClientSession(string? address, RpcClientOptions options)
    {
        _address = address;
        _options = options;
        _logger = options.LoggerFactory?.CreateLogger("RpcGen.Client") ?? NullLogger.Instance;
        _current = null!; // set by the factory methods before the session is handed out
        States = new ConnectionStateFeed(RpcConnectionState.Ready);
    }

    public ConnectionStateFeed States { get; }

    /// <summary>The server's address (the current connection's peer).</summary>
    public string Peer => _current.Peer;

    /// <summary>Whether a call made now goes out at once: the current connection is open and its server has not said it is going away.</summary>
    public bool AcceptsCalls => _current.AcceptsCalls;

    /// <summary>The last measured round-trip time of the current connection.</summary>
    public TimeSpan? RoundTripTime => _current.RoundTripTime;

    /// <summary>Completes when the client is finished: its connection closed and it does not reconnect, or it was disposed.</summary>
    public Task Completion => _shutdown.Task;

    /// <summary>Why the client is not connected, or null while it is.</summary>
    public RpcException? CloseReason => _current.CloseReason ?? _failure;

    private bool Reconnects => _options.Reconnect is not null && _address is not null;

    public static async Task<ClientSession> ConnectAsync(string address, RpcClientOptions options, CancellationToken cancellationToken)
    {
        var session = new ClientSession(address, options);
        session._current = await ClientConnector.ConnectAsync(address, options, session._logger, session.OnConnectionClosed, cancellationToken).ConfigureAwait(false);
        return session.Run();
    }

    public static ClientSession Create(RpcLink link, RpcClientOptions options)
    {
        var session = new ClientSession(address: null, options);
        session._current = ClientConnector.Open(link, options, session._logger, session.OnConnectionClosed);
        return session.Run();
    }

    // ---- Calls ---------------------------------------------------------------------------------
    // Fast path: the connection accepts calls and nothing needs watching, so the call goes straight
    // to it (no extra state machine). Otherwise the slow path waits for a connection or fails fast,
    // and re-sends an [Idempotent] call whose connection dropped.

    public ValueTask<TResponse> InvokeAsync<TRequest, TResponse>(RpcMethod<TRequest, TResponse> method, TRequest request, CancellationToken cancellationToken)
    {
        var connection = _current;
        return !Reconnects || (connection.AcceptsCalls && !method.IsIdempotent)
            ? connection.InvokeAsync(method, request, cancellationToken)
            : InvokeReconnectingAsync(method, request, cancellationToken);
    }

    public ValueTask InvokeVoidAsync<TRequest>(RpcMethod<TRequest, RpcVoid> method, TRequest request, CancellationToken cancellationToken)
    {
        var connection = _current;
        return !Reconnects || (connection.AcceptsCalls && !method.IsIdempotent)
            ? connection.InvokeVoidAsync(method, request, cancellationToken)
            : RpcTasks.AsValueTask(InvokeReconnectingAsync(method, request, cancellationToken));
    }

    public ValueTask SendAsync<TRequest>(RpcMethod<TRequest, RpcVoid> method, TRequest request)
    {
        var connection = _current;
        return !Reconnects || connection.AcceptsCalls
            ? connection.SendAsync(method, request)
            : SendReconnectingAsync(method, request);
    }

    public IAsyncEnumerable<TResponse> InvokeServerStreaming<TRequest, TResponse>(RpcStreamingMethod<TRequest, RpcVoid, TResponse> method, TRequest request, CancellationToken cancellationToken) =>
        Reconnects
            ? StreamOnReadyAsync(connection => connection.InvokeServerStreaming(method, request, cancellationToken), cancellationToken)
            : _current.InvokeServerStreaming(method, request, cancellationToken);

    public ValueTask<TResponse> InvokeClientStreamingAsync<TRequest, TRequestItem, TResponse>(RpcStreamingMethod<TRequest, TRequestItem, TResponse> method, TRequest request, IAsyncEnumerable<TRequestItem> items, CancellationToken cancellationToken)
    {
        var connection = _current;
        return !Reconnects || connection.AcceptsCalls
            ? connection.InvokeClientStreamingAsync(method, request, items, cancellationToken)
            : ClientStreamOnReadyAsync(method, request, items, cancellationToken);
    }

    public IAsyncEnumerable<TResponse> InvokeDuplexStreaming<TRequest, TRequestItem, TResponse>(RpcStreamingMethod<TRequest, TRequestItem, TResponse> method, TRequest request, IAsyncEnumerable<TRequestItem> items, CancellationToken cancellationToken) =>
        Reconnects
            ? StreamOnReadyAsync(connection => connection.InvokeDuplexStreaming(method, request, items, cancellationToken), cancellationToken)
            : _current.InvokeDuplexStreaming(method, request, items, cancellationToken);

    private async ValueTask<TResponse> InvokeReconnectingAsync<TRequest, TResponse>(RpcMethod<TRequest, TResponse> method, TRequest request, CancellationToken cancellationToken)
    {
        var connection = await ReadyConnectionAsync(WaitsForReady, cancellationToken).ConfigureAwait(false);
        try
        {
            return await connection.InvokeAsync(method, request, cancellationToken).ConfigureAwait(false);
        }
        catch (RpcException ex) when (method.IsIdempotent && _options.ResendIdempotentCalls && ex.StatusCode == RpcStatusCode.Disconnected && connection.CloseReason is not null && !_disposing.IsCancellationRequested)
        {
            // The connection the call was on dropped (an error the server sent leaves CloseReason
            // null). The method is idempotent, so running it again is safe: once, on the next
            // connection, waiting for it whatever WaitForReady says (bounded like a waiting call).
            ClientLog.RetryingIdempotentCall(_logger, method.FullName, ex.Message);
            var next = await ReadyConnectionAsync(wait: true, cancellationToken).ConfigureAwait(false);
            return await next.InvokeAsync(method, request, cancellationToken).ConfigureAwait(false);
        }
    }

    private async ValueTask SendReconnectingAsync<TRequest>(RpcMethod<TRequest, RpcVoid> method, TRequest request)
    {
        var connection = await ReadyConnectionAsync(WaitsForReady, CancellationToken.None).ConfigureAwait(false);
        await connection.SendAsync(method, request).ConfigureAwait(false);
    }

    private async ValueTask<TResponse> ClientStreamOnReadyAsync<TRequest, TRequestItem, TResponse>(RpcStreamingMethod<TRequest, TRequestItem, TResponse> method, TRequest request, IAsyncEnumerable<TRequestItem> items, CancellationToken cancellationToken)
    {
        var connection = await ReadyConnectionAsync(WaitsForReady, cancellationToken).ConfigureAwait(false);
        return await connection.InvokeClientStreamingAsync(method, request, items, cancellationToken).ConfigureAwait(false);
    }

    private async IAsyncEnumerable<TResponse> StreamOnReadyAsync<TResponse>(Func<MessageConnection, IAsyncEnumerable<TResponse>> start, [EnumeratorCancellation] CancellationToken cancellationToken)
    {
        // Like any lazy sequence, the call starts when enumeration does: on the connection current then.
        var connection = await ReadyConnectionAsync(WaitsForReady, cancellationToken).ConfigureAwait(false);
        await foreach (var item in start(connection).WithCancellation(cancellationToken).ConfigureAwait(false))
        {
            yield return item;
        }
    }

    private bool WaitsForReady => RpcWaitForReady.Current ?? _options.WaitForReady;

    /// <summary>
    /// The current connection when it accepts calls; otherwise waits for the next (when
    /// <paramref name="wait"/>) up to the call's deadline, or fails at once.
    /// </summary>
    private async ValueTask<MessageConnection> ReadyConnectionAsync(bool wait, CancellationToken cancellationToken)
    {
        var deadline = RpcDeadline.Current ?? (_options.DefaultTimeout is { } timeout ? DateTime.UtcNow + timeout : null);
        while (true)
        {
            Task ready;
            lock (_gate)
            {
                var connection = _current;
                if (connection.AcceptsCalls)
                {
                    return connection;
                }

                if (_disposing.IsCancellationRequested)
                {
                    throw RpcException.ForNotProcessed(RpcStatusCode.Disconnected, $"The client of {_address} is disposed.", "disposed");
                }

                if (_refused is { } refused)
                {
                    throw new RpcException(RpcStatusCode.PermissionDenied, $"The client of {_address} stopped reconnecting: {refused.Message}", refused);
                }

                ready = _ready.Task;
                if (ready.IsCompleted)
                {
                    // Ready, but the server said GoAway: wait for that connection to close (then
                    // OnConnectionClosed has replaced _ready, and the next turn waits on that).
                    ready = connection.Completion;
                }
            }

            if (!wait)
            {
                throw RpcException.ForNotProcessed(RpcStatusCode.Disconnected, $"Not connected to {_address} ({States.State}): {CloseReason?.Message ?? "the connection is closing."} Set RpcClientOptions.WaitForReady (or RpcWaitForReady) to wait for the connection instead.", "not connected");
            }

            if (deadline is { } due)
            {
                var left = due - DateTime.UtcNow;
                if (left <= TimeSpan.Zero)
                {
                    throw new RpcException(RpcStatusCode.DeadlineExceeded, $"The deadline passed while waiting for a connection to {_address}: {CloseReason?.Message}");
                }

                try
                {
                    await ready.WaitAsync(left, cancellationToken).ConfigureAwait(false);
                }
                catch (TimeoutException)
                {
                    throw new RpcException(RpcStatusCode.DeadlineExceeded, $"The deadline passed while waiting for a connection to {_address}: {CloseReason?.Message}");
                }
            }
            else
            {
                await ready.WaitAsync(cancellationToken).ConfigureAwait(false);
            }
        }
    }

    // ---- Lifecycle -----------------------------------------------------------------------------

    private ClientSession Run()
    {
        _maintaining = MaintainAsync();
        return this;
    }

    /// <summary>Watches the connection; when it closes, reconnects (if the client does) or shuts down.</summary>
    private async Task MaintainAsync()
    {
        while (true)
        {
            var connection = _current;
            await connection.Completion.ConfigureAwait(false);
            if (!Reconnects || _disposing.IsCancellationRequested)
            {
                break;
            }

            ClientLog.Disconnected(_logger, _address!, connection.CloseReason?.Message ?? "closed");
            if (await ReconnectAsync().ConfigureAwait(false) is not { } next)
            {
                break;
            }

            lock (_gate)
            {
                if (_disposing.IsCancellationRequested)
                {
                    // Disposed while the handshake completed: nobody will use or close this one.
                    _ = next.DisposeAsync().AsTask();
                    break;
                }

                _current = next;
                _failure = null;
                _ready.TrySetResult();
            }

            // Outside the lock: StateChanged handlers are user code.
            States.Set(RpcConnectionState.Ready);
            ClientLog.Reconnected(_logger, _address!);
        }

        Shutdown();
    }

    /// <summary>
    /// Runs as a connection closes, before its <see cref="MessageConnection.Completion"/> completes:
    /// from here on, callers that find it not accepting calls wait for the next one (or fail fast)
    /// instead of seeing a Ready client with a dead connection.
    /// </summary>
    private void OnConnectionClosed(MessageConnection closed)
    {
        lock (_gate)
        {
            if (!ReferenceEquals(closed, _current) || !Reconnects || _disposing.IsCancellationRequested)
            {
                return;
            }

            _failure = closed.CloseReason;
            if (_ready.Task.IsCompleted)
            {
                _ready = NewReady(completed: false);
            }
        }
    }

    /// <summary>Attempts connections with backoff until one succeeds (returned) or the client is disposed (null).</summary>
    private async Task<MessageConnection?> ReconnectAsync()
    {
        var policy = _options.Reconnect!;
        for (var failures = 0; ; failures++)
        {
            if (failures > 0)
            {
                States.Set(RpcConnectionState.TransientFailure);
                var delay = policy.BackoffAfter(failures, Random.Shared.NextDouble());
                try
                {
                    await Task.Delay(delay, _options.TimeProvider, _disposing.Token).ConfigureAwait(false);
                }
                catch (OperationCanceledException)
                {
                    return null;
                }
            }

            States.Set(RpcConnectionState.Connecting);
            try
            {
                return await ClientConnector.ConnectAsync(_address!, _options, _logger, OnConnectionClosed, _disposing.Token).ConfigureAwait(false);
            }
            catch (OperationCanceledException) when (_disposing.IsCancellationRequested)
            {
                return null;
            }
            catch (RpcException ex) when (ex.StatusCode == RpcStatusCode.PermissionDenied)
            {
                // A refusal (the server's CA or known keys do not admit this client, or this client
                // does not trust the server's key) will not change by itself: trying again every
                // backoff would only fill the server's log. Stop, and let calls fail with it.
                _failure = ex;
                _refused = ex;
                ClientLog.ReconnectRefused(_logger, _address!, ex.Message);
                return null;
            }
            catch (RpcException ex)
            {
                _failure = ex;
                ClientLog.ReconnectFailed(_logger, _address!, failures + 1, ex.Message);
            }
        }
    }

    private void Shutdown()
    {
        lock (_gate)
        {
            _ready.TrySetResult();
        }

        States.Set(RpcConnectionState.Shutdown);
        _shutdown.TrySetResult();
    }

    /// <summary>Closes the connection and stops reconnecting; calls still waiting fail with <see cref="RpcStatusCode.Disconnected"/>.</summary>
    public async ValueTask DisposeAsync()
    {
        MessageConnection connection;
        lock (_gate)
        {
            _disposing.Cancel();
            connection = _current;
            _ready.TrySetResult();
        }

        await connection.DisposeAsync().ConfigureAwait(false);
        if (_maintaining is not null)
        {
            await _maintaining.ConfigureAwait(false);
        }
    }

    private static TaskCompletionSource NewReady(bool completed)
    {
        var ready = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        if (completed)
        {
            ready.SetResult();
        }

        return ready;
    }

}
