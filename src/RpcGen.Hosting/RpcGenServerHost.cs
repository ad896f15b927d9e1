using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using RpcGen.Transport.Message;

namespace RpcGen.Hosting;

/// <summary>
/// The <see cref="RpcServer"/> <c>AddRpcGen</c> runs as a hosted service: started with the host on
/// <see cref="RpcGenServerOptions.Addresses"/>, stopped gracefully when the host stops (new calls are
/// refused, calls in flight get up to <see cref="RpcGenServerOptions.ShutdownTimeout"/>).
/// Resolve it to learn the addresses actually bound (a <c>tcp://…:0</c> address gets a free port).
/// </summary>
public sealed class RpcGenServerHost : IHostedService, IAsyncDisposable
{
    private readonly RpcGenServerOptions _options;
    private readonly IEnumerable<RpcGenServiceRegistration> _registrations;
    private readonly IServiceProvider _services;
    private RpcServer? _server;

    /// <summary>Created by the container.</summary>
    public RpcGenServerHost(IOptions<RpcGenServerOptions> options, IServiceProvider services)
    {
        _options = options.Value;
        _services = services;
        _registrations = services.GetServices<RpcGenServiceRegistration>();
    }

    /// <summary>The running server, or null before the host started it.</summary>
    public RpcServer? Server => _server;

    /// <summary>The addresses the server listens on (empty before it started).</summary>
    public IReadOnlyList<string> Addresses => _server?.Addresses ?? [];

    /// <inheritdoc />
    public async Task StartAsync(CancellationToken cancellationToken)
    {
        if (_options.Addresses.Count == 0)
        {
            throw new InvalidOperationException("RpcGen has no address to listen on: set RpcGenServerOptions.Addresses (configuration key RpcGen:Addresses).");
        }

        var security = _services.GetRequiredService<IOptionsMonitor<RpcGenSecurityOptions>>().Get(RpcGenSecurityExtensions.ServerName);
        var serverOptions = new RpcServerOptions
        {
            Tls = security.Tls?.Invoke(_services),
            Authorizer = security.Authorizer,
            AuthorizationPolicies = security.Policies.Count == 0 ? null : new Dictionary<string, RpcGen.Security.IRpcAuthorizer>(security.Policies, StringComparer.Ordinal),
            Limits = _options.Limits,
            LoggerFactory = _services.GetService<ILoggerFactory>(),
            Compression = _options.Compression,
            CompressionThresholdBytes = _options.CompressionThresholdBytes,
            HandlerExecution = _options.HandlerExecution,
            TimeProvider = _services.GetService<TimeProvider>() ?? TimeProvider.System,
        };
        foreach (var interceptor in _services.GetServices<RpcGenInterceptorRegistration<RpcServerInterceptor>>())
        {
            serverOptions.Interceptors.Add(interceptor.Resolve(_services));
        }

        var server = new RpcServer(serverOptions);

        foreach (var registration in _registrations)
        {
            server.AddDispatcher(registration.CreateDispatcher(_services));
        }

        _server = server;
        await server.StartAsync([.. _options.Addresses]).WaitAsync(cancellationToken).ConfigureAwait(false);
    }

    /// <inheritdoc />
    public async Task StopAsync(CancellationToken cancellationToken)
    {
        if (_server is { } server)
        {
            // The host's token ends the wait, not the shutdown: the server still closes its connections.
            await server.StopAsync(_options.ShutdownTimeout).WaitAsync(cancellationToken).ConfigureAwait(false);
        }
    }

    /// <inheritdoc />
    public ValueTask DisposeAsync() => _server?.DisposeAsync() ?? default;
}
