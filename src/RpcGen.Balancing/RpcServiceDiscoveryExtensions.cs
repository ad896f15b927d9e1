using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.ServiceDiscovery;

namespace RpcGen.Balancing;

/// <summary>Registers RpcGen's endpoint providers with <c>Microsoft.Extensions.ServiceDiscovery</c>.</summary>
public static class RpcServiceDiscoveryExtensions
{
    /// <summary>
    /// Adds a DNS endpoint provider that reads SRV records (and A/AAAA records when there are none),
    /// the records Kubernetes headless services publish. Register it after the configuration provider
    /// so configured endpoints take precedence.
    /// </summary>
    /// <example>
    /// <code>
    /// services.AddServiceDiscoveryCore()
    ///     .AddConfigurationServiceEndpointProvider()
    ///     .AddRpcDnsSrvServiceEndpointProvider(dns => dns.QuerySuffix = "shop.svc.cluster.local");
    /// </code>
    /// </example>
    public static IServiceCollection AddRpcDnsSrvServiceEndpointProvider(this IServiceCollection services, Action<RpcDnsSrvOptions>? configure = null)
    {
        ArgumentNullException.ThrowIfNull(services);
        var options = new RpcDnsSrvOptions();
        configure?.Invoke(options);
        ArgumentOutOfRangeException.ThrowIfLessThan(options.MaxEndpoints, 1, nameof(RpcDnsSrvOptions.MaxEndpoints));
        services.AddSingleton<IServiceEndpointProviderFactory>(new DnsSrvEndpointProviderFactory(options));
        return services;
    }
}
