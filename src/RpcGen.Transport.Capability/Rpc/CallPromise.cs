using System.Runtime.CompilerServices;

namespace RpcGen.Capnp;

/// <summary>
/// A call in flight. Await it for the <see cref="CallResponse"/> (which the awaiter owns and must
/// dispose), or take capabilities it will return with <see cref="GetPipelinedCapability"/> and call
/// them at once: those calls travel to the callee immediately and run when the results exist,
/// without a round trip. Disposing the promise before it completes cancels the call unless
/// pipelined capabilities still depend on it.
/// </summary>
public sealed class CallPromise : IDisposable
{
    private readonly PendingCall _pending;
    private readonly Task<CallResponse> _response;
    private readonly CancellationTokenRegistration _registration;
    private int _state; // 0 open, 1 response handed to an awaiter, 2 disposed

    internal CallPromise(PendingCall pending, CancellationToken cancellationToken)
    {
        _pending = pending;
        _response = WrapAsync(pending.Response);
        if (cancellationToken.CanBeCanceled)
        {
            _registration = cancellationToken.Register(static state => ((CallPromise)state!)._pending.Cancel(), this);
        }
    }

    /// <summary>The results; the <see cref="CallResponse"/> belongs to whoever awaits this and must be disposed.</summary>
    public Task<CallResponse> Response
    {
        get
        {
            Interlocked.CompareExchange(ref _state, 1, 0);
            return _response;
        }
    }

    /// <summary>Awaits <see cref="Response"/>.</summary>
    public TaskAwaiter<CallResponse> GetAwaiter() => Response.GetAwaiter();

    /// <summary>
    /// The capability the results will hold at <paramref name="pointerPath"/>: pointer indices from
    /// the result struct down (for a bootstrap-style result that is itself a capability, no indices).
    /// The caller owns the returned reference.
    /// </summary>
    public Capability GetPipelinedCapability(params ushort[] pointerPath) => new(_pending.GetPipelinedHook(new PipelinePath(pointerPath)));

    /// <summary>Stops waiting: cancels the call if it has not completed and nothing is pipelined on it; releases unclaimed results.</summary>
    public void Dispose()
    {
        var previous = Interlocked.Exchange(ref _state, 2);
        _registration.Dispose();
        if (previous == 2)
        {
            return;
        }

        _pending.Drop();
        if (previous == 0 && _response.IsCompletedSuccessfully)
        {
            _response.Result.Dispose();
        }
    }

    private async Task<CallResponse> WrapAsync(Task<ResponseCore> pending)
    {
        var core = await pending.ConfigureAwait(false);
        var response = new CallResponse(core);
        if (Volatile.Read(ref _state) == 2)
        {
            // Disposed while the results were on their way, and nobody asked for them.
            response.Dispose();
        }

        return response;
    }
}
