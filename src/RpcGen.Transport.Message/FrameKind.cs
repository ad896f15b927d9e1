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

    /// <summary>One item of the stream of the call with the same call id; direction given by <see cref="FrameFlags.FromCaller"/>.</summary>
    StreamItem = 8,

    /// <summary>The end of a stream: no payload when it ended normally, <c>[code, message]</c> when the producer failed.</summary>
    StreamEnd = 9,

    /// <summary>Grants the producer of a stream more bytes; the amount is carried in the method-id field.</summary>
    StreamCredit = 10,

    /// <summary>
    /// The sender drops references to an object the receiver exported: the export id is in the
    /// call-id field, the number of references released in the method-id field.
    /// </summary>
    Release = 11,

    /// <summary>
    /// Asks the receiver to answer with a <see cref="Pong"/> carrying the same call-id field; no payload.
    /// A client sends one when the connection has been quiet for its keepalive interval
    /// (<see cref="RpcClientOptions.KeepAliveInterval"/>).
    /// </summary>
    Ping = 12,

    /// <summary>The answer to a <see cref="Ping"/>, with its call-id field; no payload.</summary>
    Pong = 13,

    /// <summary>
    /// The first frame each side sends, and only then; payload <see cref="HelloPayload"/> (magic,
    /// protocol version, feature bits, the sender's limits). The client sends its hello as soon as
    /// it connects; the server answers with its own, or with an <see cref="Abort"/> naming both
    /// versions when they differ. A server closes a connection whose first frame is not a hello, or
    /// whose hello does not arrive within <see cref="RpcLimits.HandshakeTimeout"/>.
    /// </summary>
    Hello = 14,

    /// <summary>
    /// Metadata of the call with the same call id: request headers when it comes immediately before a
    /// <see cref="Request"/> or <see cref="OneWay"/>, response trailers when it comes immediately before a
    /// <see cref="Response"/> or <see cref="Error"/> (both frames leave in one write). Payload: a
    /// MessagePack array <c>[key, value, …]</c>, values strings or (for keys ending in <c>-bin</c>) bin;
    /// never compressed; at most <see cref="RpcLimits.MaxMetadataBytes"/> bytes and
    /// <see cref="RpcLimits.MaxMetadataEntries"/> entries. A call without metadata sends no such frame.
    /// Any other frame after it, a second one, or one over the limits aborts the connection.
    /// </summary>
    Metadata = 15,
}

/// <summary>Bits of the header's flags byte.</summary>
[Flags]
public enum FrameFlags : byte
{
    /// <summary>No flags.</summary>
    None = 0,

    /// <summary>
    /// On stream frames: sent by the side that made the call (so it concerns the receiver's inbound
    /// call with that id); clear when sent by the side serving it.
    /// </summary>
    FromCaller = 0x80,

    /// <summary>
    /// On requests: the call targets an object the receiver exported (a callback), whose export id is
    /// in the service-id field, instead of a service the receiver serves.
    /// </summary>
    ToExport = 0x40,

    /// <summary>
    /// The codec of the payload (<see cref="RpcGen.Compression.RpcCompression"/>; 0 = none). A
    /// compressed payload starts with its uncompressed length (4 bytes, little-endian).
    /// </summary>
    CodecMask = 0x07,

    /// <summary>
    /// On requests: the codec the caller wants the answer (response or stream items) in, whether or
    /// not the request itself was large enough to compress (0 = the request's own codec).
    /// </summary>
    ReplyCodecMask = 0x38,

    /// <summary>The bits a version-1 peer may set.</summary>
    Defined = FromCaller | ToExport | CodecMask | ReplyCodecMask,
}
