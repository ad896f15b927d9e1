using Microsoft.Extensions.Logging;

namespace RpcGen.Transport.Message;

/// <summary>Log messages of the message transport. Event ids are stable: 1100-1199.</summary>
internal static partial class MessageLog
{
    [LoggerMessage(EventId = 1100, Level = LogLevel.Debug, Message = "Connection {ConnectionId}: call {CallId} to unknown service 0x{ServiceId:x16}")]
    public static partial void UnknownService(ILogger logger, long connectionId, uint callId, ulong serviceId);

    [LoggerMessage(EventId = 1101, Level = LogLevel.Information, Message = "Server shutting down: {Connections} connection(s), waiting up to {Timeout} for calls in flight")]
    public static partial void ShuttingDown(ILogger logger, int connections, TimeSpan timeout);

    [LoggerMessage(EventId = 1102, Level = LogLevel.Warning, Message = "Server shutdown timed out; closing {Connections} connection(s) with calls in flight")]
    public static partial void ShutdownTimedOut(ILogger logger, int connections);
}
