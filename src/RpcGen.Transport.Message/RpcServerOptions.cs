using Microsoft.Extensions.Logging;

namespace RpcGen.Transport.Message;

/// <summary>
/// Settings of an <see cref="RpcServer"/>. Settable so configuration binding and post-configuration can
/// fill them; set them before creating the server, changing them afterwards is not supported.
/// </summary>
public sealed class RpcServerOptions
{
    /// <summary>Limits applied to every connection. Default: <see cref="RpcLimits.Default"/>.</summary>
    public RpcLimits Limits { get; set; } = RpcLimits.Default;

    /// <summary>
    /// TLS settings for <c>tls://</c> and <c>tls+unix:</c> addresses: this side's certificate, the CA
    /// peers must chain to, the posture and the known-keys file. Plain addresses (<c>tcp://</c>,
    /// <c>unix:</c>) ignore it. Default: none, so a TLS address is refused.
    /// </summary>
    public RpcGen.Security.RpcTlsOptions? Tls { get; set; }

    /// <summary>Where the server logs. Default: nowhere.</summary>
    public ILoggerFactory? LoggerFactory { get; set; }
    /// <summary>
    /// The codec for calls made over this connection (<see cref="RpcGen.Compression.RpcCompression.None"/>
    /// by default); <see cref="RpcGen.Compression.RpcCompressionScope"/> overrides it per call. Whatever
    /// the setting, every codec is understood when received, and answers use the codec of their request.
    /// </summary>
    public RpcGen.Compression.RpcCompression Compression { get; set; }

    /// <summary>
    /// The clock the connection time limits (<see cref="RpcLimits.HandshakeTimeout"/>,
    /// <see cref="RpcLimits.IdleTimeout"/>, <see cref="RpcLimits.FrameTimeout"/>) are measured with.
    /// Default <see cref="TimeProvider.System"/>; tests pass a fake one.
    /// </summary>
    public TimeProvider TimeProvider { get; set; } = TimeProvider.System;

    /// <summary>Payloads smaller than this are sent uncompressed. Default 1 KiB.</summary>
    public int CompressionThresholdBytes { get; set; } = 1024;

    /// <summary>
    /// Where the implementations this side serves run (service methods and the callbacks clients pass in). Default
    /// <see cref="RpcHandlerExecution.ThreadPool"/>: the connection's reader hands each call over and
    /// goes on reading, so a handler that blocks holds up only itself.
    /// <see cref="RpcHandlerExecution.Inline"/> saves a thread-pool hop per call, for handlers that
    /// never block; while one blocks, no other call on its connection is read, and one that waits
    /// synchronously for a call back into its caller deadlocks the connection.
    /// </summary>
    public RpcHandlerExecution HandlerExecution { get; set; }

    /// <summary>
    /// Server middleware, outermost first: every call this server serves (its services, and the
    /// objects it handed to clients by reference) runs through them (see <see cref="RpcServerInterceptor"/>).
    /// Read when each connection opens. Empty by default, which costs nothing.
    /// </summary>
    /// <example>
    /// <code>
    /// var options = new RpcServerOptions { Interceptors = { new RequireTenant(), new AuditInterceptor(log) } };
    /// </code>
    /// </example>
    public IList<RpcServerInterceptor> Interceptors { get; } = new List<RpcServerInterceptor>();

    /// <summary>
    /// Consulted before every call on this server, before the service's authorizer and the method's
    /// <c>[RpcAuthorize]</c> policies; a denial fails the call with <see cref="RpcStatusCode.PermissionDenied"/>
    /// before the implementation runs. Default: none (every call is allowed).
    /// </summary>
    public RpcGen.Security.IRpcAuthorizer? Authorizer { get; set; }

    /// <summary>
    /// The policies <c>[RpcAuthorize("name")]</c> names, by name. A call to a method naming a policy
    /// that is not registered is denied. Default: none.
    /// </summary>
    public IReadOnlyDictionary<string, RpcGen.Security.IRpcAuthorizer>? AuthorizationPolicies { get; set; }
}
