namespace RpcGen;

/// <summary>
/// The exception an RPC call fails with. <see cref="StatusCode"/> says how it failed; the message
/// carries the remote side's explanation when there is one.
/// </summary>
public class RpcException : Exception
{
    /// <summary>Creates an exception with a status code and a message.</summary>
    public RpcException(RpcStatusCode statusCode, string message)
        : base(message)
    {
        StatusCode = statusCode;
    }

    /// <summary>Creates an exception with a status code, a message and the local cause.</summary>
    public RpcException(RpcStatusCode statusCode, string message, Exception? innerException)
        : base(message, innerException)
    {
        StatusCode = statusCode;
    }

    /// <summary>How the call failed.</summary>
    public RpcStatusCode StatusCode { get; }

    /// <inheritdoc />
    public override string ToString() => $"{GetType().FullName} ({StatusCode}): {Message}";
}
