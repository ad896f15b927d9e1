namespace RpcGen.Transport.Message;

/// <summary>What a frame carries. Values are wire constants.</summary>
public enum FrameKind : byte
{
    /// <summary>A two-way call: service id, method id, call id, optional deadline, request payload.</summary>
    Request = 1,

    /// <summary>A one-way call: like <see cref="Request"/> but never answered.</summary>
    OneWay = 2,

    /// <summary>The successful result of the call with the same call id.</summary>
    Response = 3,

    /// <summary>The failure of the call with the same call id; payload <c>[code, message]</c>.</summary>
    Error = 4,

    /// <summary>The caller gave up on the call with the same call id; no payload.</summary>
    Cancel = 5,

    /// <summary>The sender stops accepting new calls (graceful shutdown); calls in flight finish.</summary>
    GoAway = 6,

    /// <summary>The sender closes the connection because the receiver broke the protocol; payload <c>[code, message]</c>.</summary>
    Abort = 7,
}
