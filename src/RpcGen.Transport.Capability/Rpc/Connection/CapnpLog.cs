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

    [LoggerMessage(EventId = 4004, Level = LogLevel.Warning, Message = "Cap'n Proto connection from {Peer} refused: {Reason}")]
    public static partial void ConnectionRefused(ILogger logger, string peer, string reason);

    [LoggerMessage(EventId = 4005, Level = LogLevel.Information, Message = "Cap'n Proto connection from {Peer} timed out: {Reason}")]
    public static partial void TimedOut(ILogger logger, string peer, string reason);

    [LoggerMessage(EventId = 4006, Level = LogLevel.Error, Message = "Cap'n Proto connection from {Peer} failed unexpectedly and was closed")]
    public static partial void ConnectionFailed(ILogger logger, string peer, Exception exception);

    [LoggerMessage(EventId = 4007, Level = LogLevel.Warning, Message = "Accepting on {Address} failed for lack of resources; retrying in {Delay}")]
    public static partial void AcceptBackingOff(ILogger logger, string address, TimeSpan delay, Exception exception);

    [LoggerMessage(EventId = 4008, Level = LogLevel.Warning, Message = "Accepting one connection on {Address} failed; the server goes on")]
    public static partial void AcceptFailed(ILogger logger, string address, Exception exception);

    [LoggerMessage(EventId = 4009, Level = LogLevel.Debug, Message = "Cap'n Proto connection from {Peer} stopped reading: it holds {Bytes} outbound bytes its peer has not taken")]
    public static partial void ReadingPaused(ILogger logger, string peer, long bytes);

    [LoggerMessage(EventId = 4011, Level = LogLevel.Information, Message = "Cap'n Proto call {Method} from {Peer} denied: {Reason}")]
    public static partial void CallDenied(ILogger logger, string method, string peer, string reason);

    [LoggerMessage(EventId = 4012, Level = LogLevel.Warning, Message = "A {Service} proxy of the Cap'n Proto connection to {Peer} was garbage-collected without being disposed; its capability was released only now. Dispose proxies (or let the call that lent them return) to release them promptly")]
    public static partial void ProxyLeaked(ILogger logger, string service, string peer);

    [LoggerMessage(EventId = 4010, Level = LogLevel.Error, Message = "Starting a call on the thread pool failed; the calls queued behind it go on")]
    public static partial void HandlerStartFailed(ILogger logger, Exception exception);
}
