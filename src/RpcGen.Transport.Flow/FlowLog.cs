using Microsoft.Extensions.Logging;

namespace RpcGen.Transport.Flow;

/// <summary>Log messages of the flow transport. Event ids are stable: 1500-1599.</summary>
internal static partial class FlowLog
{
    [LoggerMessage(EventId = 1500, Level = LogLevel.Warning, Message = "Flow connection to {Peer}: protocol violation, closing it: {Reason}")]
    public static partial void ProtocolViolation(ILogger logger, string peer, string reason);

    [LoggerMessage(EventId = 1501, Level = LogLevel.Information, Message = "Flow connection to {Peer} closed ({Code}): {Reason}")]
    public static partial void Closed(ILogger logger, string peer, FlowErrorCode code, string reason);

    [LoggerMessage(EventId = 1502, Level = LogLevel.Warning, Message = "Flow connection to {Peer}: no frame for {Timeout}, declaring it dead")]
    public static partial void PeerSilent(ILogger logger, string peer, TimeSpan timeout);

    [LoggerMessage(EventId = 1503, Level = LogLevel.Information, Message = "Flow connection to {Peer}: peer refused by the authorizer: {Reason}")]
    public static partial void Refused(ILogger logger, string peer, string reason);

    [LoggerMessage(EventId = 1504, Level = LogLevel.Information, Message = "Flow connection to {Peer}: entering lame duck, {Flows} flow(s) open")]
    public static partial void LameDuck(ILogger logger, string peer, int flows);

    [LoggerMessage(EventId = 1505, Level = LogLevel.Warning, Message = "Flow manager: listening on {Address} failed: {Reason}")]
    public static partial void ListenFailed(ILogger logger, string address, string reason);

    [LoggerMessage(EventId = 1506, Level = LogLevel.Information, Message = "Flow manager: pinned connection to {Address} dropped, reconnecting: {Reason}")]
    public static partial void PinnedReconnect(ILogger logger, string address, string reason);

    [LoggerMessage(EventId = 1507, Level = LogLevel.Debug, Message = "Flow manager: accepting a connection from {Address} failed: {Reason}")]
    public static partial void AcceptFailed(ILogger logger, string address, string reason);

    [LoggerMessage(EventId = 1508, Level = LogLevel.Warning, Message = "Flow manager: refused a connection from {Address}: {Reason}")]
    public static partial void ConnectionRefused(ILogger logger, string address, string reason);

    [LoggerMessage(EventId = 1509, Level = LogLevel.Debug, Message = "Flow manager: the connection from {Address} ended; {Held} accepted connection(s) held")]
    public static partial void ConnectionReleased(ILogger logger, string address, int held);

    [LoggerMessage(EventId = 1510, Level = LogLevel.Information, Message = "Flow manager: closing the connection from {Address}: no flow for {IdleTimeout} (FlowManagerOptions.IdleTimeout)")]
    public static partial void IdleClosed(ILogger logger, string address, TimeSpan idleTimeout);

    [LoggerMessage(EventId = 1511, Level = LogLevel.Debug, Message = "Flow manager: accepted a connection from {Address} ({Held} accepted connection(s) held)")]
    public static partial void ConnectionAccepted(ILogger logger, string address, int held);
}
