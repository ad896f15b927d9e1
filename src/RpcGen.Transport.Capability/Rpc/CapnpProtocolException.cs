namespace RpcGen.Capnp;

/// <summary>
/// The peer broke the RPC protocol (an unknown question, a double Finish, a Release of more than
/// was exported...). The connection is aborted with an <c>abort</c> message carrying this reason.
/// </summary>
public sealed class CapnpProtocolException : RpcException
{
    /// <summary>Creates the exception.</summary>
    public CapnpProtocolException(string message)
        : base(RpcStatusCode.ProtocolError, message)
    {
    }
}
