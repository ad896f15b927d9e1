using RpcGen.Links;

namespace RpcGen.Transport.Flow;

/// <summary>
/// Makes <c>flow+tcp://HOST:PORT</c>, <c>flow+unix:PATH</c>, <c>flow+memory:NAME</c>, <c>flow+tls://HOST:PORT</c>,
/// <c>flow+tls+unix:PATH</c> and <c>flow+shm:PATH</c> addresses work for every protocol (<c>RpcServer</c>/<c>RpcClient</c>,
/// <c>CapnpServer</c>/<c>CapnpConnection</c>): call <see cref="Register"/> once at start-up (and, for
/// <c>flow+shm</c>, <c>SharedMemoryLinks.Register</c>: the flows then share one shared-memory link).
/// </summary>
/// <remarks>
/// Each RPC connection is one flow. Clients dial through <see cref="FlowManager.Default"/>, so all
/// RPC clients of a process to one remote share one network connection. Each listening address gets
/// a manager of its own, so a listener only hands out flows that arrived on its own connections.
/// TLS options given to the server or client (<c>RpcTlsOptions</c>) secure the underlying connection.
/// </remarks>
public static class FlowLinks
{
    /// <summary>The prefix that turns a link address into a flow address.</summary>
    public const string Prefix = "flow+";

    private static readonly Provider s_provider = new();

    /// <summary>Registers the <c>flow+</c> schemes with <see cref="RpcLinks"/>, process-wide. Calling it again is a no-op.</summary>
    public static void Register() => RpcLinks.Register(s_provider);

    private sealed class Provider : IRpcLinkProvider
    {
        public IReadOnlyList<string> Schemes { get; } = ["flow+tcp", "flow+unix", "flow+memory", "flow+tls", "flow+tls+unix", "flow+shm"];

        public async ValueTask<RpcLink> ConnectAsync(string address, RpcLinkContext context, CancellationToken cancellationToken)
        {
            var inner = address[Prefix.Length..];
            var manager = FlowManager.Default;
            if (context.Tls is not null && inner.StartsWith("tls", StringComparison.OrdinalIgnoreCase))
            {
                manager = TlsManagers.For(context);
            }

            Flow flow;
            try
            {
                flow = await manager.DialAsync(inner, cancellationToken: cancellationToken).ConfigureAwait(false);
            }
            catch (FlowException ex)
            {
                // The link contract: an RpcException (Disconnected when nothing listens), whatever carries it.
                throw new RpcException(ex.StatusCode, ex.Message, ex);
            }

            return new FlowRpcLink(flow, Prefix + flow.Connection.LocalAddress, Prefix + flow.Connection.RemoteAddress);
        }

        public RpcLinkListener Listen(string address, RpcLinkContext context)
        {
            var manager = new FlowManager(new FlowManagerOptions
            {
                Tls = context.Tls,
                LinkLimits = context.Limits,
                Logger = context.Logger,
                TimeProvider = context.TimeProvider,
            });
            try
            {
                var bound = manager.ListenAsync(address[Prefix.Length..]).GetAwaiter().GetResult();
                return new Listener(manager, Prefix + bound);
            }
            catch
            {
                manager.DisposeAsync().AsTask().GetAwaiter().GetResult();
                throw;
            }
        }
    }

    // TLS clients carry their own options (the CA to trust, a client certificate), so each distinct
    // options object gets its own process-wide manager; connections are shared among clients that
    // pass the same options.
    private static class TlsManagers
    {
        private static readonly System.Runtime.CompilerServices.ConditionalWeakTable<RpcGen.Security.RpcTlsOptions, FlowManager> s_managers = [];

        public static FlowManager For(RpcLinkContext context) =>
            s_managers.GetValue(context.Tls!, tls => new FlowManager(new FlowManagerOptions { Tls = tls, LinkLimits = context.Limits }));
    }

    private sealed class Listener(FlowManager manager, string address) : RpcLinkListener
    {
        public override string Address => address;

        public override async ValueTask<RpcLink?> AcceptAsync(CancellationToken cancellationToken = default)
        {
            try
            {
                var flow = await manager.AcceptAsync(cancellationToken).ConfigureAwait(false);
                return new FlowRpcLink(flow, Prefix + flow.Connection.LocalAddress, Prefix + flow.Connection.RemoteAddress);
            }
            catch (FlowException)
            {
                return null;
            }
        }

        // Stops listening at once; connections already accepted go lame duck, so RPC connections in
        // flight may finish (the server drains them) while no new flow is accepted.
        public override async ValueTask DisposeAsync()
        {
            await manager.StopListeningAsync().ConfigureAwait(false);
            _ = manager.CloseAsync();
        }
    }
}
