namespace RpcGen.Capnp;

/// <summary>
/// A server of this library whose handlers never block and run no user code (a stream sink): a
/// connection starts its calls on its reader, even in <see cref="RpcHandlerExecution.ThreadPool"/> mode,
/// so they are seen in the order they arrived relative to every other message of the connection.
/// </summary>
internal interface IInlineCapabilityServer : ICapabilityServer
{
}
