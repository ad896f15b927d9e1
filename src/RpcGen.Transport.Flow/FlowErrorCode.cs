namespace RpcGen.Transport.Flow;

/// <summary>
/// Why a flow or a flow connection failed: a small closed set, matching Vanadium's v23/flow codes.
/// Carried by <see cref="FlowException"/> and, for <see cref="FlowTearDownCodes"/>, sent to the peer.
/// </summary>
public enum FlowErrorCode : byte
{
    /// <summary>The peer could not be authenticated (a TLS handshake failed).</summary>
    Auth = 1,

    /// <summary>An <see cref="IPeerAuthorizer"/> on one side refused the other.</summary>
    NotTrusted = 2,

    /// <summary>The network connection was lost, the peer stopped answering health checks, or the peer broke the protocol.</summary>
    Network = 3,

    /// <summary>Nothing could be reached at the address.</summary>
    DialFailed = 4,

    /// <summary>The address could not be resolved (unknown protocol, unknown host name).</summary>
    ResolveFailed = 5,

    /// <summary>An argument was invalid (a malformed address, a non-positive window).</summary>
    BadArg = 6,

    /// <summary>The operation is not possible in the current state (the connection is closing, no cached connection exists).</summary>
    BadState = 7,

    /// <summary>The flow or connection was reset or closed, locally or by the peer.</summary>
    Aborted = 8,
}

/// <summary>The codes a teardown or reset frame may carry.</summary>
internal static class FlowTearDownCodes
{
    /// <summary>Whether <paramref name="code"/> is one of <see cref="FlowErrorCode"/>'s values.</summary>
    public static bool IsDefined(byte code) => code is >= (byte)FlowErrorCode.Auth and <= (byte)FlowErrorCode.Aborted;
}
