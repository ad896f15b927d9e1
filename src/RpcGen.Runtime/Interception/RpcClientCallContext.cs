using System.Diagnostics;

namespace RpcGen;

/// <summary>
/// One outbound call as client interceptors see it: the method, the headers about to be sent, and
/// after <c>next</c> returns the trailers that came back. One per call, created only when
/// interceptors are registered.
/// </summary>
public sealed class RpcClientCallContext : IRpcTrailerSink
{
    private readonly RpcClientInterceptor[] _interceptors;
    private readonly IRpcClientTerminal _terminal;
    private readonly long _startTimestamp = Stopwatch.GetTimestamp();

    // The scope current when the call started: its headers are the starting point, and it gets the
    // trailers too, as it would without interceptors.
    private readonly RpcMetadataScope? _scope;
    private RpcMetadata? _headers;
    private RpcMetadata? _trailers;

    internal RpcClientCallContext(RpcMethodInfo method, CancellationToken cancellationToken, RpcClientInterceptor[] interceptors, IRpcClientTerminal terminal)
    {
        Method = method;
        CancellationToken = cancellationToken;
        _interceptors = interceptors;
        _terminal = terminal;
        _scope = RpcMetadataScope.Current;
    }

    /// <summary>The method being called.</summary>
    public RpcMethodInfo Method { get; }

    /// <summary>The caller's cancellation token.</summary>
    public CancellationToken CancellationToken { get; }

    /// <summary>The headers the call will send: a copy of the current <see cref="RpcMetadataScope"/>'s, which interceptors may change.</summary>
    public RpcMetadata RequestHeaders => _headers ??= _scope is null ? new RpcMetadata() : new RpcMetadata(_scope.RequestHeaders);

    /// <summary>The trailers of the answer, once <c>next</c> has returned or thrown (empty before, or when the server sent none).</summary>
    public RpcMetadata ResponseTrailers => Volatile.Read(ref _trailers) ?? new RpcMetadata();

    /// <summary>The time since the call started (before the first interceptor ran).</summary>
    public TimeSpan Elapsed => Stopwatch.GetElapsedTime(_startTimestamp);

    /// <summary>The headers to send: the interceptors' copy once they touched it, else the scope's own.</summary>
    internal RpcMetadata? HeadersToSend => _headers ?? _scope?.RequestHeaders;

    /// <summary>Runs the pipeline from interceptor <paramref name="index"/> on (the transport past the last).</summary>
    internal ValueTask<TResponse> InvokeFrom<TRequest, TResponse>(int index, TRequest request) =>
        index < _interceptors.Length
            ? _interceptors[index].InterceptAsync(this, request, RpcClientContinuations<TRequest, TResponse>.Cache.At(index + 1))
            : _terminal.InvokeAsync<TRequest, TResponse>(this, request);

    /// <summary>Tells every interceptor a streaming call is starting; an exception refuses the call.</summary>
    internal void OnStreamingCallStarting()
    {
        foreach (var interceptor in _interceptors)
        {
            interceptor.OnStreamingCallStarting(this);
        }
    }

    /// <summary>Tells every interceptor, innermost first and off the caller's thread, how a streaming call ended.</summary>
    internal void OnStreamingCallEnded(RpcStatusCode status, Exception? exception) =>
        ThreadPool.UnsafeQueueUserWorkItem(
            static state =>
            {
                for (var i = state.Context._interceptors.Length - 1; i >= 0; i--)
                {
                    try
                    {
                        state.Context._interceptors[i].OnStreamingCallEnded(state.Context, state.Status, state.Exception);
                    }
                    catch (Exception)
                    {
                        // An observer's failure must not hide the call's outcome from the others.
                    }
                }
            },
            (Context: this, Status: status, Exception: exception),
            preferLocal: false);

    void IRpcTrailerSink.SetTrailers(RpcMetadata? trailers)
    {
        Volatile.Write(ref _trailers, trailers);
        ((IRpcTrailerSink?)_scope)?.SetTrailers(trailers);
    }
}
