namespace RpcGen.Capnp;

/// <summary>A call that failed before it started: to a broken capability, or over a lost connection.</summary>
internal sealed class BrokenPendingCall(RpcException error) : PendingCall
{
    private readonly Task<ResponseCore> _response = Task.FromException<ResponseCore>(error);

    public override Task<ResponseCore> Response => _response;

    public override CapabilityHook GetPipelinedHook(PipelinePath path) => new BrokenHook(error);

    public override void Drop()
    {
    }
}
