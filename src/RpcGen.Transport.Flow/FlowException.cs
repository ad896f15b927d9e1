namespace RpcGen.Transport.Flow;

/// <summary>
/// The one exception the flow transport throws: a <see cref="FlowErrorCode"/> and a message that
/// says what happened. It is an <see cref="RpcException"/> so protocols running over a flow (the
/// message transport, Cap'n Proto) report it like any other link failure.
/// </summary>
public sealed class FlowException : RpcException
{
    /// <summary>Creates an exception with a code and a message.</summary>
    public FlowException(FlowErrorCode code, string message, Exception? innerException = null)
        : base(ToStatus(code), message, innerException)
    {
        Code = code;
    }

    /// <summary>Why the flow or connection failed.</summary>
    public FlowErrorCode Code { get; }

    private static RpcStatusCode ToStatus(FlowErrorCode code) => code switch
    {
        FlowErrorCode.Auth or FlowErrorCode.NotTrusted => RpcStatusCode.PermissionDenied,
        FlowErrorCode.BadArg => RpcStatusCode.Failed,
        FlowErrorCode.BadState => RpcStatusCode.Failed,
        _ => RpcStatusCode.Disconnected,
    };
}
