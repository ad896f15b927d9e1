using System.Net;
using System.Net.Sockets;
using Microsoft.AspNetCore.Http.Features;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Primitives;
using Microsoft.Extensions.ServiceDiscovery;

namespace RpcGen.Balancing;

/// <summary>
/// Resolves a logical name through <c>Microsoft.Extensions.ServiceDiscovery</c>: the endpoint
/// providers registered in the service collection (its configuration provider,
/// <see cref="RpcServiceDiscoveryExtensions.AddRpcDnsSrvServiceEndpointProvider"/> for DNS A/AAAA and
/// SRV records, or any other), asked in registration order until one yields endpoints.
/// </summary>
/// <remarks>
/// Each resolution asks the providers afresh (the balanced client decides when: periodically and after
/// a failure), rather than going through the library's cached <c>ServiceEndpointResolver</c>, whose
/// refresh cannot be forced from outside.
/// </remarks>
/// <example>
/// <code>
/// services.AddServiceDiscoveryCore().AddConfigurationServiceEndpointProvider().AddRpcDnsSrvServiceEndpointProvider();
/// // appsettings.json: { "Services": { "catalog": { "rpc": [ "10.0.0.1:5000", "10.0.0.2:5000" ] } } }
/// var resolver = new RpcServiceDiscoveryResolver(provider, "_rpc.catalog");
/// </code>
/// </example>
public sealed class RpcServiceDiscoveryResolver : IRpcEndpointResolver
{
    private readonly IServiceEndpointProvider[] _providers;

    /// <summary>
    /// Creates a resolver for <paramref name="serviceName"/> (<c>catalog</c>, or <c>_rpc.catalog</c> to
    /// name the endpoint, as <c>Microsoft.Extensions.ServiceDiscovery</c> reads it) over the providers
    /// registered in <paramref name="services"/>.
    /// </summary>
    /// <exception cref="ArgumentException">The name does not parse, or no registered provider handles it.</exception>
    public RpcServiceDiscoveryResolver(IServiceProvider services, string serviceName)
    {
        ArgumentNullException.ThrowIfNull(services);
        ArgumentException.ThrowIfNullOrEmpty(serviceName);
        if (!ServiceEndpointQuery.TryParse(serviceName, out var query))
        {
            throw new ArgumentException($"'{serviceName}' is not a service name Microsoft.Extensions.ServiceDiscovery understands.", nameof(serviceName));
        }

        var providers = new List<IServiceEndpointProvider>();
        foreach (var factory in services.GetServices<IServiceEndpointProviderFactory>())
        {
            if (factory.TryCreateProvider(query, out var provider))
            {
                providers.Add(provider);
            }
        }

        if (providers.Count == 0)
        {
            throw new ArgumentException($"No service endpoint provider handles '{serviceName}': register one (AddServiceDiscoveryCore().AddConfigurationServiceEndpointProvider(), AddRpcDnsSrvServiceEndpointProvider()).", nameof(serviceName));
        }

        Name = serviceName;
        _providers = [.. providers];
    }

    /// <inheritdoc />
    public string Name { get; }

    /// <summary>The port used for an endpoint that names a host without one. Default 5000.</summary>
    public int DefaultPort { get; init; } = 5000;

    /// <inheritdoc />
    public async ValueTask<IReadOnlyList<string>> ResolveAsync(CancellationToken cancellationToken)
    {
        foreach (var provider in _providers)
        {
            var builder = new EndpointBuilder();
            await provider.PopulateAsync(builder, cancellationToken).ConfigureAwait(false);
            if (builder.Endpoints.Count > 0)
            {
                return [.. builder.Endpoints.Select(endpoint => ToAddress(endpoint.EndPoint, DefaultPort))];
            }
        }

        return [];
    }

    /// <summary>The RpcGen address of an endpoint a provider found.</summary>
    internal static string ToAddress(EndPoint endPoint, int defaultPort) => endPoint switch
    {
        IPEndPoint ip => ip.AddressFamily == AddressFamily.InterNetworkV6
            ? $"tcp://[{ip.Address}]:{Port(ip.Port, defaultPort)}"
            : $"tcp://{ip.Address}:{Port(ip.Port, defaultPort)}",
        DnsEndPoint dns => $"tcp://{dns.Host}:{Port(dns.Port, defaultPort)}",
        UriEndPoint { Uri: var uri } when uri.Scheme is "tcp" or "tls" => $"{uri.Scheme}://{uri.Authority}",
        UriEndPoint { Uri: var uri } => $"tcp://{uri.Host}:{Port(uri.IsDefaultPort ? 0 : uri.Port, defaultPort)}",
        _ => throw new NotSupportedException($"Service discovery returned an endpoint of a kind RpcGen cannot dial: {endPoint}."),
    };

    private static int Port(int port, int defaultPort) => port > 0 ? port : defaultPort;

    /// <summary>What one provider fills in; change tokens are not kept, as the balanced client polls.</summary>
    private sealed class EndpointBuilder : IServiceEndpointBuilder
    {
        public IList<ServiceEndpoint> Endpoints { get; } = new List<ServiceEndpoint>();

        public IFeatureCollection Features { get; } = new FeatureCollection();

        public void AddChangeToken(IChangeToken changeToken)
        {
        }
    }
}
