namespace RpcGen.Benchmarks.Peers.Raw;

/// <summary>What a raw frame carries.</summary>
public enum RawMethod : byte
{
    Ping = 0,
    EchoSmall = 1,
    EchoMessage = 2,
    EchoBytes = 3,

    /// <summary>Request: a 4-byte item count. Response: that many item frames, then <see cref="StreamEnd"/>.</summary>
    StreamItems = 4,

    /// <summary>Request: an 8-byte total, followed by that many unframed bytes. Response: the 8-byte count received.</summary>
    Upload = 5,

    StreamEnd = 6,
}
