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

    /// <summary>
    /// The <see cref="Detail"/> key that marks a call the server certainly did not run: it was refused
    /// before it was sent (its connection was closing, or the server had said it is going away), or a
    /// draining server refused it before dispatching it.
    /// </summary>
    public const string NotProcessedDetailKey = "rpcgen-not-processed";

    /// <summary>
    /// Whether the call certainly did not run on the server (see <see cref="NotProcessedDetailKey"/>), so
    /// sending it again, to the same or another server, is safe whether or not the method is idempotent.
    /// A <see cref="RpcStatusCode.Disconnected"/> failure without it may have run.
    /// </summary>
    public bool NotProcessed => Detail?.GetString(NotProcessedDetailKey) is not null;

    /// <summary>Creates an exception for a call that certainly did not run on the server (<see cref="NotProcessed"/> is true).</summary>
    public static RpcException ForNotProcessed(RpcStatusCode statusCode, string message, string why) =>
        new(statusCode, message) { Detail = NotProcessedDetail(why) };

    /// <summary>A <see cref="Detail"/> holding only the <see cref="NotProcessedDetailKey"/> mark, with <paramref name="why"/> as its value.</summary>
    public static RpcMetadata NotProcessedDetail(string why) => new() { { NotProcessedDetailKey, why } };

    /// <inheritdoc />
    public override string ToString() => $"{GetType().FullName} ({StatusCode}): {Message}";
}
