namespace RpcGen.Capnp;

/// <summary>A capability every call on which fails with the same error: a null capability, a broken promise, a lost connection.</summary>
internal sealed class BrokenHook(RpcException error) : CapabilityHook
{
    public RpcException Error { get; } = error;

    public override PendingCall Call(CallRequest request)
    {
        request.ReleaseParams();
        return new BrokenPendingCall(Error);
    }

    protected override void OnReleased()
    {
    }
}
