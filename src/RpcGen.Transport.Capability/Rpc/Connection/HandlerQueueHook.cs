namespace RpcGen.Capnp;

/// <summary>
/// What a promise from the peer resolves to when the connection embargoed it and its target is in
/// this process: every call through the promise, from any thread, starts in the connection's
/// <see cref="HandlerQueue"/>.
/// </summary>
/// <remarks>
/// The story: Alice calls foo() on promise P, which points at the peer; P resolves to Carol, who lives
/// here, and foo() comes back through the peer as a call the reader delivers, so it waits in the
/// connection's queue for Carol. The embargo holds Alice's next call, bar(), until foo() has come back,
/// then bar() joins the same queue. Alice's baz(), made after the embargo lifted, would start on her
/// own thread at once, before foo() and bar() have left the queue; through this hook it joins the
/// queue behind them.
/// </remarks>
internal sealed class HandlerQueueHook(HandlerQueue handlers, CapabilityHook target) : CapabilityHook
{
    // Owned; released with this hook.
    private readonly CapabilityHook _target = target;

    // Not a promise: what calls and exports see is the target itself (Innermost follows this).
    public override CapabilityHook? Resolved => _target;

    public override PendingCall Call(CallRequest request)
    {
        request.Handlers = handlers;
        return _target.Call(request);
    }

    protected override void OnReleased() => _target.Release();
}
