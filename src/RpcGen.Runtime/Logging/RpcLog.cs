using Microsoft.Extensions.Logging;

namespace RpcGen.Logging;

/// <summary>Log messages shared by every transport. Event ids are stable: 1000-1099.</summary>
public static partial class RpcLog
{
    /// <summary>A listener started.</summary>
    [LoggerMessage(EventId = 1000, Level = LogLevel.Information, Message = "Listening on {Address}")]
    public static partial void Listening(ILogger logger, string address);

    /// <summary>A connection was accepted or established.</summary>
    [LoggerMessage(EventId = 1001, Level = LogLevel.Debug, Message = "Connection {ConnectionId} opened with {Peer}")]
    public static partial void ConnectionOpened(ILogger logger, long connectionId, string peer);

    /// <summary>A connection closed.</summary>
    [LoggerMessage(EventId = 1002, Level = LogLevel.Debug, Message = "Connection {ConnectionId} with {Peer} closed: {Reason}")]
    public static partial void ConnectionClosed(ILogger logger, long connectionId, string peer, string reason);

    /// <summary>A peer broke the protocol and its connection was aborted.</summary>
    [LoggerMessage(EventId = 1003, Level = LogLevel.Warning, Message = "Connection {ConnectionId} with {Peer} aborted: {Reason}")]
    public static partial void ProtocolViolation(ILogger logger, long connectionId, string peer, string reason);

    /// <summary>A call's implementation threw.</summary>
    [LoggerMessage(EventId = 1004, Level = LogLevel.Debug, Message = "Call {Method} failed")]
    public static partial void CallFailed(ILogger logger, string method, Exception exception);

    /// <summary>A call was refused because of a limit.</summary>
    [LoggerMessage(EventId = 1005, Level = LogLevel.Warning, Message = "Connection {ConnectionId} refused a call: {Reason}")]
    public static partial void CallRefused(ILogger logger, long connectionId, string reason);

    /// <summary>A one-way call's implementation threw; there is no caller to tell.</summary>
    [LoggerMessage(EventId = 1006, Level = LogLevel.Warning, Message = "One-way call {Method} failed")]
    public static partial void OneWayFailed(ILogger logger, string method, Exception exception);

    /// <summary>Accepting a connection failed.</summary>
    [LoggerMessage(EventId = 1007, Level = LogLevel.Error, Message = "Accepting on {Address} failed")]
    public static partial void AcceptFailed(ILogger logger, string address, Exception exception);

    /// <summary>A connection broke one of its time limits (handshake, frame, idle) and was closed.</summary>
    [LoggerMessage(EventId = 1008, Level = LogLevel.Information, Message = "Connection {ConnectionId} with {Peer} closed: {Reason}")]
    public static partial void ConnectionTimedOut(ILogger logger, long connectionId, string peer, string reason);

    /// <summary>Reading a connection failed in a way no check foresaw; the connection was closed.</summary>
    [LoggerMessage(EventId = 1009, Level = LogLevel.Error, Message = "Connection {ConnectionId} with {Peer} failed unexpectedly and was closed")]
    public static partial void ConnectionFailed(ILogger logger, long connectionId, string peer, Exception exception);

    /// <summary>A connection was refused because of a connection limit.</summary>
    [LoggerMessage(EventId = 1010, Level = LogLevel.Warning, Message = "Connection from {Peer} refused: {Reason}")]
    public static partial void ConnectionRefused(ILogger logger, string peer, string reason);

    /// <summary>Accepting failed because the process is out of a resource (file descriptors, buffers); the listener backs off.</summary>
    [LoggerMessage(EventId = 1011, Level = LogLevel.Error, Message = "Accepting on {Address} failed for lack of resources; retrying in {Delay}")]
    public static partial void AcceptBackingOff(ILogger logger, string address, TimeSpan delay, Exception exception);

    /// <summary>
    /// A server connection holds back calls it has read but not started, because its peer does not
    /// take the answers it is sent (the calls start once it does). At most one such line a second per
    /// connection (and one of <see cref="ReaderPaused"/>): a peer that never reads would otherwise flood the log.
    /// </summary>
    [LoggerMessage(EventId = 1019, Level = LogLevel.Debug, Message = "Connection {ConnectionId} with {Peer} stopped starting calls: {HeldBytes} bytes wait for the peer to read ({UnloggedPauses} pauses since the last such line went unlogged)")]
    public static partial void CallsHeldBack(ILogger logger, long connectionId, string peer, long heldBytes, long unloggedPauses);

    /// <summary>A connection stopped reading because its peer does not take what it is sent (at most one such line a second per connection).</summary>
    [LoggerMessage(EventId = 1012, Level = LogLevel.Debug, Message = "Connection {ConnectionId} with {Peer} stopped reading: {HeldBytes} bytes wait for the peer to read ({UnloggedPauses} pauses since the last such line went unlogged)")]
    public static partial void ReaderPaused(ILogger logger, long connectionId, string peer, long heldBytes, long unloggedPauses);

    /// <summary>
    /// A server connection stopped reading because the calls it read have not started yet (its
    /// handlers are busy, or held back for <see cref="CallsHeldBack"/>), at most one such line a
    /// second per connection, shared with <see cref="ReaderPaused"/>.
    /// </summary>
    [LoggerMessage(EventId = 1020, Level = LogLevel.Debug, Message = "Connection {ConnectionId} with {Peer} stopped reading: {QueuedCalls} calls wait to start ({UnloggedPauses} pauses since the last such line went unlogged)")]
    public static partial void ReaderPausedForCalls(ILogger logger, long connectionId, string peer, int queuedCalls, long unloggedPauses);
}
