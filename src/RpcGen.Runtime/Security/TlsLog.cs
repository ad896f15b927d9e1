using Microsoft.Extensions.Logging;

namespace RpcGen.Security;

/// <summary>Log messages of TLS links and known keys. Event ids are stable: 1200-1219.</summary>
internal static partial class TlsLog
{
    [LoggerMessage(EventId = 1200, Level = LogLevel.Warning, Message = "TLS on {Address} does not verify clients (RpcTlsPosture.SkipClientVerification): any client can connect")]
    public static partial void SkippingClientVerification(ILogger logger, string address);

    [LoggerMessage(EventId = 1201, Level = LogLevel.Warning, Message = "TLS handshake with {Peer} refused: {Reason}")]
    public static partial void HandshakeRefused(ILogger logger, string peer, string reason);

    [LoggerMessage(EventId = 1202, Level = LogLevel.Warning, Message = "TLS handshake with {Peer} failed: {Reason}")]
    public static partial void HandshakeFailed(ILogger logger, string peer, string reason);

    [LoggerMessage(EventId = 1203, Level = LogLevel.Warning, Message = "TLS handshake with {Peer} did not finish within {Timeout} (RpcLimits.HandshakeTimeout); closed")]
    public static partial void HandshakeTimedOut(ILogger logger, string peer, TimeSpan timeout);

    [LoggerMessage(EventId = 1204, Level = LogLevel.Warning, Message = "Connection from {Peer} closed before its TLS handshake: {Reason}")]
    public static partial void HandshakeNotStarted(ILogger logger, string peer, string reason);

    [LoggerMessage(EventId = 1207, Level = LogLevel.Debug, Message = "TLS handshake with {Peer} started; it has {Timeout} to finish")]
    public static partial void HandshakeStarted(ILogger logger, string peer, TimeSpan timeout);

    [LoggerMessage(EventId = 1208, Level = LogLevel.Debug, Message = "TLS handshake with {Peer} done: {Protocol} with {CipherSuite}")]
    public static partial void HandshakeDone(ILogger logger, string peer, System.Security.Authentication.SslProtocols protocol, System.Net.Security.TlsCipherSuite cipherSuite);

    [LoggerMessage(EventId = 1205, Level = LogLevel.Information, Message = "Known keys {Path}: recorded {Name} <{Email}> {Fingerprint} on first use")]
    public static partial void KeyRecorded(ILogger logger, string path, string name, string? email, string fingerprint);

    [LoggerMessage(EventId = 1206, Level = LogLevel.Information, Message = "Known keys {Path} is read-only: lockdown, only its {Count} keys are admitted")]
    public static partial void Lockdown(ILogger logger, string path, int count);
}
