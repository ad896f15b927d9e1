using Microsoft.Extensions.Logging;

namespace RpcGen.Transport.Message;

/// <summary>Log messages of a reconnecting client. Event ids are stable: 1150-1159 (of the message transport's 1100-1199).</summary>
internal static partial class ClientLog
{
    [LoggerMessage(EventId = 1150, Level = LogLevel.Warning, Message = "Connection to {Address} lost ({Reason}); reconnecting")]
    public static partial void Disconnected(ILogger logger, string address, string reason);

    [LoggerMessage(EventId = 1151, Level = LogLevel.Information, Message = "Reconnection attempt {Attempt} to {Address} failed: {Reason}")]
    public static partial void ReconnectFailed(ILogger logger, string address, int attempt, string reason);

    [LoggerMessage(EventId = 1154, Level = LogLevel.Warning, Message = "Stopped reconnecting to {Address}: {Reason}")]
    public static partial void ReconnectRefused(ILogger logger, string address, string reason);

    [LoggerMessage(EventId = 1152, Level = LogLevel.Information, Message = "Reconnected to {Address}")]
    public static partial void Reconnected(ILogger logger, string address);

    [LoggerMessage(EventId = 1153, Level = LogLevel.Debug, Message = "Re-sending idempotent call {Method} on the next connection: {Reason}")]
    public static partial void RetryingIdempotentCall(ILogger logger, string method, string reason);
}
