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

    // Raised once each time a stream's producer parks because the receiver has granted nothing more:
    // how a stalled consumer shows, and what tests await to know the producer stopped. Callers check
    // IsEnabled first, so the numbers are only gathered when someone listens.
    [LoggerMessage(EventId = 1103, Level = LogLevel.Debug, SkipEnabledCheck = true, Message = "Connection {ConnectionId}: stream {CallId} waits for credit: {SentBytes} bytes sent, {GrantedBytes} granted")]
    public static partial void StreamWaitsForCredit(ILogger logger, long connectionId, uint callId, long sentBytes, long grantedBytes);
}
