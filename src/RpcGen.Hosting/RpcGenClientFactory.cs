using System.Collections.Concurrent;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using RpcGen.Transport.Message;

namespace RpcGen.Hosting;

/// <summary>
/// Hands out proxies of the clients registered with <c>AddRpcClient</c>: one shared connection per
/// client name, made on the first call and disposed with the container.
/// </summary>
public sealed class RpcGenClientFactory : IAsyncDisposable
{
    private readonly IOptionsMonitor<RpcGenClientOptions> _options;
    private readonly IServiceProvider _services;
    private readonly ConcurrentDictionary<string, SharedClientChannel> _channels = new(StringComparer.Ordinal);

    /// <summary>Created by the container.</summary>
    public RpcGenClientFactory(IOptionsMonitor<RpcGenClientOptions> options, IServiceProvider services)
    {
        _options = options;
        _services = services;
    }

    /// <summary>A proxy for <typeparamref name="TService"/> over the connection of the client named <paramref name="name"/>.</summary>
    public TService GetService<TService>(string name)
        where TService : class
    {
        ArgumentNullException.ThrowIfNull(name);
        var channel = _channels.GetOrAdd(name, static (key, factory) => new SharedClientChannel(token => factory.ConnectAsync(key, token)), this);
        return RpcServiceRegistry.CreateProxy<TService>(channel);
    }

    /// <inheritdoc />
    public async ValueTask DisposeAsync()
    {
        foreach (var channel in _channels.Values)
        {
            await channel.DisposeAsync().ConfigureAwait(false);
        }

        _channels.Clear();
    }

    private Task<RpcClient> ConnectAsync(string name, CancellationToken cancellationToken)
    {
        var options = _options.Get(name);
        if (string.IsNullOrWhiteSpace(options.Address))
        {
            throw new InvalidOperationException($"The RpcGen client '{name}' has no address: set RpcGenClientOptions.Address.");
        }

        var tls = _services.GetRequiredService<IOptionsMonitor<RpcGenSecurityOptions>>().Get(name).Tls?.Invoke(_services);
        var clientOptions = options.ToClientOptions(_services.GetService<ILoggerFactory>(), _services.GetService<TimeProvider>(), tls);
        foreach (var interceptor in _services.GetServices<RpcGenInterceptorRegistration<RpcClientInterceptor>>())
        {
            clientOptions.Interceptors.Add(interceptor.Resolve(_services));
        }

        return RpcClient.ConnectAsync(options.Address, clientOptions, cancellationToken);
    }
}
