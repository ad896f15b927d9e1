using Microsoft.Extensions.Logging;

namespace RpcGen.Balancing;

/// <summary>Log messages of the balanced client. Event ids are stable: 1600-1649.</summary>
internal static partial class BalancerLog
{
    [LoggerMessage(EventId = 1600, Level = LogLevel.Information, Message = "{Name} resolved to {Count} endpoints: {Addresses}")]
    public static partial void Resolved(ILogger logger, string name, int count, string addresses);

    [LoggerMessage(EventId = 1601, Level = LogLevel.Warning, Message = "Resolving {Name} failed; keeping the endpoints it had: {Reason}")]
    public static partial void ResolveFailed(ILogger logger, string name, string reason);

    [LoggerMessage(EventId = 1602, Level = LogLevel.Information, Message = "Connecting to endpoint {Address} failed (attempt {Attempt}): {Reason}")]
    public static partial void ConnectFailed(ILogger logger, string address, int attempt, string reason);

    [LoggerMessage(EventId = 1603, Level = LogLevel.Debug, Message = "Endpoint {Address} is {State}")]
    public static partial void EndpointState(ILogger logger, string address, RpcConnectionState state);

    [LoggerMessage(EventId = 1604, Level = LogLevel.Debug, Message = "Call {Method} was not processed by {Address}; sending it to another endpoint: {Reason}")]
    public static partial void Redirecting(ILogger logger, string method, string address, string reason);

    [LoggerMessage(EventId = 1605, Level = LogLevel.Debug, Message = "Attempt {Attempt} of {Method} failed: {Reason}")]
    public static partial void AttemptFailed(ILogger logger, string method, int attempt, string reason);
}
