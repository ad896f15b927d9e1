namespace RpcGen.Capnp;

/// <summary>A call that failed before it started: to a broken capability, or over a lost connection.</summary>
internal sealed class BrokenPendingCall(RpcException error) : PendingCall
{
    // Made when asked for: a call dropped unasked leaves no faulted task to be reported as unobserved.
    private Task<ResponseCore>? _response;

    public override Task<ResponseCore> Response => _response ??= Task.FromException<ResponseCore>(error);

    public override CapabilityHook GetPipelinedHook(PipelinePath path) => new BrokenHook(error);

    public override void Drop()
    {
    }
}
