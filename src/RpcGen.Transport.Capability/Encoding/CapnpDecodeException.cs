namespace RpcGen.Capnp;

/// <summary>
/// Thrown when a Cap'n Proto message is malformed or breaks a reader limit: a pointer out of its
/// segment, a far pointer whose landing pad is itself far, a list of the wrong element size, the
/// traversal or nesting limit, or a segment table that declares too much. The message is never
/// trusted past the point of the error.
/// </summary>
public sealed class CapnpDecodeException : RpcException
{
    /// <summary>Creates the exception with a message that says what was wrong.</summary>
    public CapnpDecodeException(string message)
        : base(RpcStatusCode.InvalidPayload, message)
    {
    }
}
