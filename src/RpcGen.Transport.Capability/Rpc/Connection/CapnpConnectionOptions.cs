using Microsoft.Extensions.Logging;

namespace RpcGen.Capnp;

/// <summary>Settings for one Cap'n Proto RPC connection.</summary>
public sealed class CapnpConnectionOptions
{
    /// <summary>The capability a peer's <c>Bootstrap</c> gets; null answers bootstrap requests with an error. The connection takes its own reference.</summary>
    public Capability? Bootstrap { get; init; }

    /// <summary>Limits for every message read from the peer.</summary>
    public CapnpReaderOptions ReaderOptions { get; init; } = CapnpReaderOptions.Default;

    /// <summary>
    /// The most calls the peer may have in our answer table at once (sent and not yet finished).
    /// Beyond it the connection is aborted: a peer that never sends Finish cannot grow the table
    /// without bound. Default 16384.
    /// </summary>
    public int MaxAnswers { get; init; } = 16 * 1024;

    /// <summary>
    /// Where the peer's calls on this side's objects run: the bootstrap capability, and every capability
    /// passed to the peer (a callback a client exports, an object a result returns).
    /// <see cref="RpcHandlerExecution.ThreadPool"/> (the default): the connection's reader hands each
    /// call to the thread pool and goes on reading. Calls on one object from this connection still start
    /// in the order they arrived (Cap'n Proto's E-order): each runs until its first incomplete
    /// <c>await</c> before the next one starts, so a method that blocks before its first <c>await</c>
    /// holds back later calls to that object from this connection, never other objects or connections.
    /// <see cref="RpcHandlerExecution.Inline"/>: methods run on the reader until their first incomplete
    /// <c>await</c>, saving a thread-pool hop per call. The risk is yours: while a method blocks, nothing
    /// else on the connection is read, and a method that waits synchronously (<c>.Result</c>,
    /// <c>.GetAwaiter().GetResult()</c>) for a call back into the peer deadlocks the connection until
    /// it is closed, since the answer can only be read by the reader it blocks.
    /// </summary>
    public RpcHandlerExecution HandlerExecution { get; init; } = RpcHandlerExecution.ThreadPool;

    /// <summary>
    /// Asked before every call the peer makes on an object served here whose server names its method
    /// (<see cref="ICapabilityServer.FindMethod"/>: every <c>[RpcService]</c>-generated server, whether it is
    /// the bootstrap or a capability passed to the peer); a denial fails the call with
    /// <see cref="RpcStatusCode.PermissionDenied"/> before the implementation runs. It runs where the
    /// implementation would (see <see cref="HandlerExecution"/>), never on the reader in the default mode.
    /// Hand-written servers that do not name their methods are not checked. Default: none.
    /// </summary>
    public RpcGen.Security.IRpcAuthorizer? Authorizer { get; init; }

    /// <summary>
    /// The policies <c>[RpcAuthorize("name")]</c> names, by name, checked after <see cref="Authorizer"/>.
    /// A call to a method naming a policy that is not here is denied.
    /// </summary>
    public IReadOnlyDictionary<string, RpcGen.Security.IRpcAuthorizer>? AuthorizationPolicies { get; init; }

    /// <summary>The default of <see cref="StreamWindowBytes"/>: 1 MiB.</summary>
    public const int DefaultStreamWindowBytes = 1 << 20;

    /// <summary>The default of <see cref="MaxStreamBytesInFlight"/>: 8 MiB.</summary>
    public const long DefaultMaxStreamBytesInFlight = 8L << 20;

    /// <summary>
    /// The window of one outgoing stream (a <c>-&gt; stream</c> method, such as the <c>write</c> of a
    /// generated sink): how many bytes of its calls may be sent and not yet answered. A writer waits while
    /// the window is full, as <c>rpc.c++</c>'s <c>FlowController</c> does; one call larger than the window
    /// goes alone. It is also the most a sink served here queues for a consumer that does not keep up
    /// before it holds back its answers. Default 1 MiB.
    /// </summary>
    public int StreamWindowBytes { get; init; } = DefaultStreamWindowBytes;

    /// <summary>
    /// The most bytes of stream calls all streams of this connection may have unanswered at once (see
    /// <see cref="CapnpConnection.StreamBytesInFlight"/>); writers beyond it wait. A sink served here fails a
    /// stream whose peer sends more than this ahead of its consumer, as a peer that ignores flow control.
    /// Default 8 MiB.
    /// </summary>
    public long MaxStreamBytesInFlight { get; init; } = DefaultMaxStreamBytesInFlight;

    /// <summary>Where protocol violations and disconnects are logged.</summary>
    public ILogger? Logger { get; init; }

    /// <summary>
    /// What one peer, and all peers of a <see cref="CapnpServer"/> together, can make this side hold:
    /// queued outbound bytes (<see cref="RpcLimits.MaxPendingBytes"/>; a server also applies
    /// <see cref="RpcLimits.MaxServerPendingBytes"/> and <see cref="RpcLimits.MinPendingBytesPerConnection"/>),
    /// and, on a server, connections (<see cref="RpcLimits.MaxConnections"/>,
    /// <see cref="RpcLimits.MaxConnectionsPerAddress"/>) and time (<see cref="RpcLimits.HandshakeTimeout"/>,
    /// <see cref="RpcLimits.IdleTimeout"/>, <see cref="RpcLimits.FrameTimeout"/>). Default <see cref="RpcLimits.Default"/>.
    /// </summary>
    public RpcLimits Limits { get; init; } = RpcLimits.Default;

    /// <summary>
    /// TLS settings for <c>tls://</c> and <c>tls+unix:</c> addresses (this side's certificate, the CA,
    /// posture, known keys); ignored by plain addresses. Default: none, so a TLS address is refused.
    /// </summary>
    public RpcGen.Security.RpcTlsOptions? Tls { get; init; }

    /// <summary>
    /// The clock a <see cref="CapnpServer"/> measures its connections' time limits with (tests pass a fake
    /// one to advance time instead of waiting). Default <see cref="TimeProvider.System"/>.
    /// </summary>
    public TimeProvider TimeProvider { get; init; } = TimeProvider.System;
}

/// <summary>The sizes of a connection's four tables (and its embargoes), for diagnostics and tests.</summary>
/// <param name="Questions">Calls we sent whose ids are not yet free.</param>
/// <param name="Answers">Calls the peer sent that are not yet finished.</param>
/// <param name="Imports">Capabilities of the peer we hold.</param>
/// <param name="Exports">Capabilities of ours the peer holds.</param>
/// <param name="Embargoes">Embargoes waiting for their Disembargo to come back.</param>
public sealed record CapnpConnectionStats(int Questions, int Answers, int Imports, int Exports, int Embargoes);
