namespace RpcGen;

/// <summary>
/// The closed set of ways an RPC can fail. Modeled on Cap'n Proto's exception types
/// (failed / overloaded / disconnected / unimplemented) plus the call-level outcomes a .NET caller
/// needs to tell apart (cancelled, deadline exceeded, invalid request, protocol error).
/// </summary>
public enum RpcStatusCode
{
    /// <summary>The call succeeded. Never carried by an <see cref="RpcException"/>.</summary>
    Ok = 0,

    /// <summary>The server's implementation threw; the message is the remote exception's.</summary>
    Failed = 1,

    /// <summary>The call was cancelled by the caller.</summary>
    Cancelled = 2,

    /// <summary>The call's deadline passed before it completed.</summary>
    DeadlineExceeded = 3,

    /// <summary>The server has no such service or method.</summary>
    Unimplemented = 4,

    /// <summary>The server refused the call because a limit was reached (for example the concurrent call limit). Retrying later may succeed.</summary>
    Overloaded = 5,

    /// <summary>The connection was lost or closed before the call completed.</summary>
    Disconnected = 6,

    /// <summary>The request or response payload could not be decoded.</summary>
    InvalidPayload = 7,

    /// <summary>The peer broke the wire protocol (bad frame, limit exceeded); the connection was aborted.</summary>
    ProtocolError = 8,

    /// <summary>The server refused the caller: its identity is not admitted (TLS, known keys) or an authorization policy denied the call. Retrying as the same peer will not succeed.</summary>
    PermissionDenied = 9,
}
