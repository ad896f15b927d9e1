using Microsoft.Extensions.Logging;

namespace RpcGen.Transport.Message;

/// <summary>
/// Settings of an <see cref="RpcClient"/>. Settable so configuration binding and post-configuration can
/// fill them; set them before connecting, changing them afterwards is not supported.
/// </summary>
public sealed class RpcClientOptions
{
    /// <summary>Limits applied to the connection (frame size, buffered bytes). Default: <see cref="RpcLimits.Default"/>.</summary>
    public RpcLimits Limits { get; set; } = RpcLimits.Default;

    /// <summary>
    /// TLS settings for <c>tls://</c> and <c>tls+unix:</c> addresses: this side's certificate, the CA
    /// peers must chain to, the posture and the known-keys file. Plain addresses (<c>tcp://</c>,
    /// <c>unix:</c>) ignore it. Default: none, so a TLS address is refused.
    /// </summary>
    public RpcGen.Security.RpcTlsOptions? Tls { get; set; }

    /// <summary>
    /// The deadline given to calls made outside any <see cref="RpcDeadline"/> scope; null (the
    /// default) means such calls have no deadline.
    /// </summary>
    public TimeSpan? DefaultTimeout { get; set; }

    /// <summary>Where the client logs. Default: nowhere.</summary>
    public ILoggerFactory? LoggerFactory { get; set; }
    /// <summary>
    /// The codec for calls made over this connection (<see cref="RpcGen.Compression.RpcCompression.None"/>
    /// by default); <see cref="RpcGen.Compression.RpcCompressionScope"/> overrides it per call. Whatever
    /// the setting, every codec is understood when received, and answers use the codec of their request.
    /// </summary>
    public RpcGen.Compression.RpcCompression Compression { get; set; }

    /// <summary>Payloads smaller than this are sent uncompressed. Default 1 KiB.</summary>
    public int CompressionThresholdBytes { get; set; } = 1024;

    /// <summary>
    /// Where the implementations this side serves run (callbacks this client passes to the server). Default
    /// <see cref="RpcHandlerExecution.ThreadPool"/>: the connection's reader hands each call over and
    /// goes on reading, so a handler that blocks holds up only itself.
    /// <see cref="RpcHandlerExecution.Inline"/> saves a thread-pool hop per call, for handlers that
    /// never block; while one blocks, no other call on its connection is read, and one that waits
    /// synchronously for a call back into its caller deadlocks the connection.
    /// </summary>
    public RpcHandlerExecution HandlerExecution { get; set; }

    /// <summary>
    /// How long <see cref="RpcClient.ConnectAsync"/> (and each reconnection attempt) may take, from
    /// the start of the TCP or Unix-socket connect to the arrival of the server's hello. Default
    /// 10 s; <see cref="Timeout.InfiniteTimeSpan"/> waits as long as the operating system does.
    /// </summary>
    public TimeSpan ConnectTimeout { get; set; } = TimeSpan.FromSeconds(10);

    /// <summary>
    /// When no frame has arrived from the server for this long, the client sends a ping. Default
    /// 30 s; <see cref="Timeout.InfiniteTimeSpan"/> disables keepalive pings.
    /// </summary>
    public TimeSpan KeepAliveInterval { get; set; } = TimeSpan.FromSeconds(30);

    /// <summary>
    /// A ping not answered within this long means the server is gone: the connection closes and
    /// every pending call fails with <see cref="RpcStatusCode.Disconnected"/>. Default 20 s.
    /// </summary>
    public TimeSpan KeepAliveTimeout { get; set; } = TimeSpan.FromSeconds(20);

    /// <summary>
    /// The clock keepalive, the connect timeout and reconnection backoff are measured with. Default
    /// <see cref="TimeProvider.System"/>; tests pass a fake one. (Call deadlines use the system clock.)
    /// </summary>
    public TimeProvider TimeProvider { get; set; } = TimeProvider.System;

    /// <summary>
    /// Whether and how the client reconnects after its connection drops; null (the default) means it
    /// does not, and the client is finished once its connection closed (see <see cref="RpcClient.Completion"/>).
    /// Set to <see cref="RpcReconnectPolicy.Default"/> (or your own policy) to keep the client, and the
    /// proxies it handed out, working across server restarts. An attempt the server (or this client's
    /// TLS checks) refuses with <see cref="RpcStatusCode.PermissionDenied"/> ends reconnection: the
    /// client shuts down and every later call fails with that refusal.
    /// </summary>
    public RpcReconnectPolicy? Reconnect { get; set; }

    /// <summary>
    /// For a reconnecting client: whether calls made while it is not connected wait for a connection
    /// (up to their deadline or cancellation) instead of failing at once with
    /// <see cref="RpcStatusCode.Disconnected"/>. Default false; <see cref="RpcWaitForReady"/> sets it per call.
    /// </summary>
    public bool WaitForReady { get; set; }

    /// <summary>
    /// Whether a reconnecting client re-sends an <c>[Idempotent]</c> call whose connection dropped, once,
    /// on its next connection (true by default). A balancer turns it off: it retries such calls on
    /// another endpoint rather than waiting for this one to come back.
    /// </summary>
    internal bool ResendIdempotentCalls { get; set; } = true;

    /// <summary>A shallow copy (the interceptors list is shared), for a balancer to adjust per endpoint.</summary>
    internal RpcClientOptions Clone() => (RpcClientOptions)MemberwiseClone();

    /// <summary>Checks the connection settings; throws <see cref="ArgumentOutOfRangeException"/> naming the first bad one.</summary>
    internal void ValidateConnection()
    {
        Limits.Validate();
        ValidateTimeout(ConnectTimeout, nameof(ConnectTimeout));
        ValidateTimeout(KeepAliveInterval, nameof(KeepAliveInterval));
        ValidateTimeout(KeepAliveTimeout, nameof(KeepAliveTimeout));
        Reconnect?.Validate();
    }

    private static void ValidateTimeout(TimeSpan value, string name)
    {
        if (value != Timeout.InfiniteTimeSpan && value <= TimeSpan.Zero)
        {
            throw new ArgumentOutOfRangeException(name, value, $"RpcClientOptions.{name} must be positive or Timeout.InfiniteTimeSpan.");
        }
    }

    /// <summary>
    /// Client middleware, outermost first: every call the client makes to the server's services runs
    /// through them (see <see cref="RpcClientInterceptor"/>). Empty by default, which costs nothing.
    /// </summary>
    /// <example>
    /// <code>
    /// var options = new RpcClientOptions { Interceptors = { new AuthInterceptor(token), new MetricsInterceptor() } };
    /// </code>
    /// </example>
    public IList<RpcClientInterceptor> Interceptors { get; } = new List<RpcClientInterceptor>();
}
