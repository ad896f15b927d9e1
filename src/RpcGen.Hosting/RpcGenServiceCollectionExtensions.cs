using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Hosting;

namespace RpcGen.Hosting;

/// <summary>Registers an RpcGen server with the generic host.</summary>
public static class RpcGenServiceCollectionExtensions
{
    /// <summary>
    /// Runs an RpcGen server as a hosted service. Add what it serves with
    /// <see cref="RpcGenServerBuilderExtensions.AddService{TService, TImplementation}(IRpcGenServerBuilder, RpcServiceLifetime)"/>.
    /// </summary>
    public static IRpcGenServerBuilder AddRpcGen(this IServiceCollection services, Action<RpcGenServerOptions>? configure = null)
    {
        ArgumentNullException.ThrowIfNull(services);
        services.AddOptions<RpcGenServerOptions>();
        if (configure is not null)
        {
            services.Configure(configure);
        }

        services.TryAddSingleton<RpcGenServerHost>();
        services.TryAddEnumerable(ServiceDescriptor.Singleton<IHostedService, RpcGenServerHostRunner>());
        return new RpcGenServerBuilder(services);
    }

    /// <summary>Like <see cref="AddRpcGen(IServiceCollection, Action{RpcGenServerOptions})"/>, with settings bound from <paramref name="configuration"/> (e.g. <c>builder.Configuration.GetSection("RpcGen")</c>) and then <paramref name="configure"/>.</summary>
    public static IRpcGenServerBuilder AddRpcGen(this IServiceCollection services, IConfiguration configuration, Action<RpcGenServerOptions>? configure = null)
    {
        ArgumentNullException.ThrowIfNull(configuration);
        services.AddOptions<RpcGenServerOptions>().Bind(configuration);
        return services.AddRpcGen(configure);
    }
}

/// <summary>
/// The hosted service entry: forwards to the one <see cref="RpcGenServerHost"/>, so the host's
/// service list and code that resolves <see cref="RpcGenServerHost"/> see the same server.
/// </summary>
internal sealed class RpcGenServerHostRunner(RpcGenServerHost host) : IHostedService
{
    public Task StartAsync(CancellationToken cancellationToken) => host.StartAsync(cancellationToken);

    public Task StopAsync(CancellationToken cancellationToken) => host.StopAsync(cancellationToken);
}
