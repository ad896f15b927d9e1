namespace RpcGen.Capnp;

/// <summary>
/// A capability implemented by an <see cref="ICapabilityServer"/> in this process. A call a connection
/// delivers starts in that connection's <see cref="HandlerQueue"/>; a call made in this process starts
/// on the caller's thread.
/// </summary>
internal sealed class LocalServerHook(ICapabilityServer server) : CapabilityHook
{
    public ICapabilityServer Server { get; } = server;

    public override PendingCall Call(CallRequest request)
    {
        var pending = new LocalPendingCall();
        var context = new CallContext(request);
        // A stream sink's handler is this library's own non-blocking code, and must run on the reader:
        // then its writes, its end and the Return of the call that streams into it are seen in wire order.
        if (request.Handlers is { } handlers && Server is not IInlineCapabilityServer)
        {
            handlers.Enqueue(this, context, pending);
        }
        else
        {
            context.Run(Server, pending);
        }

        return pending;
    }

    protected override void OnReleased()
    {
        switch (Server)
        {
            case IAsyncDisposable asyncDisposable:
                _ = asyncDisposable.DisposeAsync().AsTask();
                break;
            case IDisposable disposable:
                disposable.Dispose();
                break;
        }
    }
}
