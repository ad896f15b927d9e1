namespace RpcGen.Benchmarks.Peers.Raw;

/// <summary>How the raw floor puts frames on the socket.</summary>
public enum RawSendMode
{
    /// <summary>One send system call per frame, serialized by a lock: the simplest correct design.</summary>
    PerMessage,

    /// <summary>
    /// Frames written while a send is in flight are gathered and sent together by whoever finishes
    /// the send (the client), or all responses to one receive go out in one send (the server).
    /// </summary>
    Coalesced,
}
