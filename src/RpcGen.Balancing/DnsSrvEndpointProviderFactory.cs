using DnsClient;
using Microsoft.Extensions.ServiceDiscovery;

namespace RpcGen.Balancing;

/// <summary>Creates a <see cref="DnsSrvEndpointProvider"/> for every query; one DNS client (no cache: the balanced client decides when to ask again) serves them all.</summary>
internal sealed class DnsSrvEndpointProviderFactory : IServiceEndpointProviderFactory
{
    private readonly RpcDnsSrvOptions _options;
    private readonly LookupClient _lookup;

    public DnsSrvEndpointProviderFactory(RpcDnsSrvOptions options)
    {
        _options = options;
        var lookupOptions = options.NameServer is { } server ? new LookupClientOptions(server) : new LookupClientOptions();
        lookupOptions.UseCache = false;
        lookupOptions.Timeout = options.QueryTimeout;
        lookupOptions.Retries = 1;
        lookupOptions.ThrowDnsErrors = false;
        _lookup = new LookupClient(lookupOptions);
    }

    public bool TryCreateProvider(ServiceEndpointQuery query, [System.Diagnostics.CodeAnalysis.NotNullWhen(true)] out IServiceEndpointProvider? provider)
    {
        provider = new DnsSrvEndpointProvider(query, _options, _lookup);
        return true;
    }
}
