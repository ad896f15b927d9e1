namespace RpcGen.Capnp;

/// <summary>
/// An object that answers calls: wrap it with <see cref="Capability.FromServer"/> to give it out.
/// Calls arrive in the order they were made on each reference. The dispatch method runs on the
/// connection's receive path until its first <c>await</c>, so it must not block; start long work
/// asynchronously. Throw an <see cref="RpcException"/> with <see cref="RpcStatusCode.Unimplemented"/>
/// for an unknown interface or method. A server that is <see cref="IDisposable"/> is disposed when
/// the last reference to it is dropped.
/// </summary>
public interface ICapabilityServer
{
    /// <summary>Handles one call: read <see cref="CallContext.Params"/>, write <see cref="CallContext.Results"/>.</summary>
    Task DispatchAsync(CallContext context);
}
