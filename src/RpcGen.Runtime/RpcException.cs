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

    /// <summary>
    /// Structured detail about the failure, for code to act on rather than people to read (a field
    /// that failed validation, a retry delay, an error id). A server sets it on the exception it
    /// throws; the caller's <see cref="RpcException"/> carries it back. Text values, or bytes under keys
    /// ending in <c>-bin</c>; bounded by <see cref="RpcLimits.MaxMetadataEntries"/>. Null when none.
    /// </summary>
    /// <example>
    /// <code>
    /// throw new RpcException(RpcStatusCode.Failed, "Invalid order") { Detail = new() { { "field", "quantity" } } };
    /// </code>
    /// </example>
    public RpcMetadata? Detail { get; init; }

    /// <inheritdoc />
    public override string ToString() => $"{GetType().FullName} ({StatusCode}): {Message}";
}
