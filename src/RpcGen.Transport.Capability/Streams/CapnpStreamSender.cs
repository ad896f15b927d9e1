namespace RpcGen.Capnp;

/// <summary>
/// Writes a stream into a sink capability: each <see cref="WriteAsync{TState}"/> is a call of the sink's
/// <c>write @0 (…) -&gt; stream</c> method, sent at once when the window has room. Its answer is awaited
/// only to free that room, as <c>rpc.c++</c>'s <c>FlowController</c> does; an error answer fails the stream,
/// and every later write and <see cref="EndAsync"/> throw it. <see cref="EndAsync"/> waits for every write's
/// answer, then calls <c>end @1</c>.
/// </summary>
/// <remarks>
/// <para>
/// Window: at most <see cref="CapnpConnectionOptions.StreamWindowBytes"/> of this stream's calls are
/// unanswered, and at most <see cref="CapnpConnectionOptions.MaxStreamBytesInFlight"/> of all streams of
/// the sink's connection (<see cref="CapnpConnection.StreamBytesInFlight"/>); a call larger than the
/// window goes alone. A sink in this process (no connection) gets the default window.
/// </para>
/// <para>
/// Writes are made one at a time (the next after the previous one's <see cref="WriteAsync{TState}"/>
/// completed): a stream is ordered. Disposing the sender without <see cref="EndAsync"/> releases the sink,
/// which its server reads as the producer giving up.
/// </para>
/// </remarks>
public sealed class CapnpStreamSender : IDisposable
{
    private const ushort WriteMethod = 0, EndMethod = 1;

    /// <summary>
    /// The least a write counts against a window. Every write is an entry in the peer's answer table until
    /// it is answered, so a window of tiny items must not let tens of thousands of calls be in flight
    /// (<see cref="CapnpConnectionOptions.MaxAnswers"/>, 16384 by default, aborts a peer beyond it): a 1 MiB
    /// window holds at most 1024 writes, the default 8 MiB connection cap 8192.
    /// </summary>
    public const int MinimumWriteCharge = 1024;

    private readonly Capability _sink;
    private readonly ulong _interfaceId;
    private readonly CapnpStreamWindow _window;
    private readonly CapnpStreamWindow? _connectionWindow;
    private readonly object _gate = new();

    // Writes sent and not yet answered, under _gate; _drained is completed when it falls to 0 while EndAsync waits.
    private int _unanswered;
    private TaskCompletionSource? _drained;

    // The first error a write's answer brought, or null; set once, under _gate.
    private RpcException? _failure;

    /// <summary>Writes into <paramref name="sink"/> (the sender takes the reference over), whose interface is <paramref name="sinkInterfaceId"/>.</summary>
    public CapnpStreamSender(Capability sink, ulong sinkInterfaceId)
    {
        ArgumentNullException.ThrowIfNull(sink);
        _sink = sink;
        _interfaceId = sinkInterfaceId;
        var connection = sink.Connection;
        _window = new CapnpStreamWindow(connection?.Options.StreamWindowBytes ?? CapnpConnectionOptions.DefaultStreamWindowBytes);
        _connectionWindow = connection?.StreamWindow;
    }

    /// <summary>The bytes of this stream's writes sent and not yet answered.</summary>
    public long BytesInFlight => _window.InFlight;

    /// <summary>
    /// Sends one <c>write</c> whose parameters <paramref name="write"/> fills (a struct of
    /// <paramref name="dataWords"/> and <paramref name="pointerCount"/>) from <paramref name="state"/>; completes
    /// once the call is on its way, which waits while the window is full.
    /// </summary>
    /// <exception cref="RpcException">An earlier write failed, or the sink is gone.</exception>
    public async ValueTask WriteAsync<TState>(TState state, Action<StructBuilder, TState> write, ushort dataWords, ushort pointerCount, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(write);
        ThrowIfFailed();
        var request = _sink.NewRequest(_interfaceId, WriteMethod);
        long bytes;
        try
        {
            write(request.InitParams(dataWords, pointerCount), state);
            bytes = Math.Max(request.ParamsBytes, MinimumWriteCharge);
            await _window.AcquireAsync(bytes, cancellationToken).ConfigureAwait(false);
        }
        catch
        {
            request.Dispose();
            throw;
        }

        try
        {
            if (_connectionWindow is not null)
            {
                await _connectionWindow.AcquireAsync(bytes, cancellationToken).ConfigureAwait(false);
            }
        }
        catch
        {
            _window.Release(bytes);
            request.Dispose();
            throw;
        }

        lock (_gate)
        {
            _unanswered++;
        }

        CallPromise promise;
        try
        {
            promise = request.Send();
        }
        catch
        {
            Answered(bytes);
            throw;
        }

        _ = AwaitAnswerAsync(promise, bytes);
    }

    /// <summary>
    /// Ends the stream: waits for every write's answer, then calls <c>end</c>; returns its results (the
    /// caller disposes them). Throws the error of a failed write instead.
    /// </summary>
    public async Task<CallResponse> EndAsync(CancellationToken cancellationToken = default)
    {
        Task drained;
        lock (_gate)
        {
            drained = _unanswered == 0 ? Task.CompletedTask : (_drained ??= new(TaskCreationOptions.RunContinuationsAsynchronously)).Task;
        }

        await drained.WaitAsync(cancellationToken).ConfigureAwait(false);
        ThrowIfFailed();
        using var request = _sink.NewRequest(_interfaceId, EndMethod);
        request.InitParams(0, 0);
        using var promise = request.Send(cancellationToken);
        return await promise.Response.ConfigureAwait(false);
    }

    /// <summary>Releases the sink; without <see cref="EndAsync"/> first, its server sees the stream abandoned.</summary>
    public void Dispose() => _sink.Dispose();

    private void ThrowIfFailed()
    {
        RpcException? failure;
        lock (_gate)
        {
            failure = _failure;
        }

        if (failure is not null)
        {
            throw new RpcException(failure.StatusCode, failure.Message, failure);
        }
    }

    private async Task AwaitAnswerAsync(CallPromise promise, long bytes)
    {
        try
        {
            using var response = await promise.Response.ConfigureAwait(false);
        }
        catch (Exception error)
        {
            lock (_gate)
            {
                _failure ??= RpcErrors.ToRpcException(error);
            }
        }
        finally
        {
            promise.Dispose();
            Answered(bytes);
        }
    }

    private void Answered(long bytes)
    {
        // The reverse of the order they were acquired in: the connection's count never holds a write
        // the stream's window has already let another take the place of.
        _connectionWindow?.Release(bytes);
        _window.Release(bytes);
        TaskCompletionSource? drained = null;
        lock (_gate)
        {
            if (--_unanswered == 0)
            {
                drained = _drained;
                _drained = null;
            }
        }

        drained?.TrySetResult();
    }
}
