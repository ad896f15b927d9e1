namespace RpcGen.Capnp;

/// <summary>
/// An object that answers calls: wrap it with <see cref="Capability.FromServer"/> to give it out.
/// Calls arrive in the order they were made on each reference: calls a connection delivers start on
/// the thread pool, one after another per object (each runs until its first incomplete <c>await</c>
/// before the next starts), unless the connection's <see cref="CapnpConnectionOptions.HandlerExecution"/>
/// is <see cref="RpcHandlerExecution.Inline"/>, where they run on its reader and must not block. Throw an <see cref="RpcException"/> with <see cref="RpcStatusCode.Unimplemented"/>
/// for an unknown interface or method. A server that is <see cref="IDisposable"/> is disposed when
/// the last reference to it is dropped.
/// </summary>
public interface ICapabilityServer
{
    /// <summary>Handles one call: read <see cref="CallContext.Params"/>, write <see cref="CallContext.Results"/>.</summary>
    Task DispatchAsync(CallContext context);

    /// <summary>
    /// The RpcGen method a call with <paramref name="interfaceId"/> and <paramref name="methodId"/>
    /// runs, or null when there is none. A connection with authorization rules
    /// (<see cref="CapnpConnectionOptions.Authorizer"/>, <see cref="CapnpConnectionOptions.AuthorizationPolicies"/>)
    /// checks the peer's calls against the method this returns before <see cref="DispatchAsync"/> runs;
    /// a server that returns null (the default, as for hand-written servers) is not checked.
    /// Generated <c>[RpcService]</c> servers return their methods' descriptors.
    /// </summary>
    RpcMethodInfo? FindMethod(ulong interfaceId, ushort methodId) => null;
}
