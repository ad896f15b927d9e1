using Microsoft.Extensions.Logging;

namespace RpcGen.Capnp;

/// <summary>Log messages of the capability transport. Event ids are stable: 4000-4099.</summary>
internal static partial class CapnpLog
{
    [LoggerMessage(EventId = 4000, Level = LogLevel.Warning, Message = "Cap'n Proto connection aborted: {Reason}")]
    public static partial void Aborted(ILogger logger, string reason);

    [LoggerMessage(EventId = 4001, Level = LogLevel.Debug, Message = "Cap'n Proto connection closed: {Reason}")]
    public static partial void Closed(ILogger logger, string reason);

    [LoggerMessage(EventId = 4002, Level = LogLevel.Debug, Message = "Cap'n Proto peer sent a message this implementation does not handle (kind {Kind}); answered 'unimplemented'")]
    public static partial void Unimplemented(ILogger logger, int kind);

    [LoggerMessage(EventId = 4003, Level = LogLevel.Error, Message = "A deferred release failed")]
    public static partial void DeferredFailed(ILogger logger, Exception exception);
}
