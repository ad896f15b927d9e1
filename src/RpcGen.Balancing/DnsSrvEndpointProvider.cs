using System.Net;
using DnsClient;
using DnsClient.Protocol;
using Microsoft.Extensions.ServiceDiscovery;

namespace RpcGen.Balancing;

/// <summary>
/// A <c>Microsoft.Extensions.ServiceDiscovery</c> endpoint provider over DNS: SRV records
/// (<c>_ENDPOINT._tcp.SERVICE[.SUFFIX]</c>, the names Kubernetes headless services publish), each
/// target's address from the answer's additional records or an A/AAAA query, and, when there is no
/// SRV record, the service name's own A/AAAA records.
/// </summary>
internal sealed class DnsSrvEndpointProvider(ServiceEndpointQuery query, RpcDnsSrvOptions options, ILookupClient lookup) : IServiceEndpointProvider
{
    private readonly string _serviceHost = WithSuffix(query.ServiceName, options.QuerySuffix);
    private readonly string _srvName = WithSuffix($"_{query.EndpointName ?? options.DefaultEndpointName}._tcp.{query.ServiceName}", options.QuerySuffix);

    public async ValueTask PopulateAsync(IServiceEndpointBuilder endpoints, CancellationToken cancellationToken)
    {
        var srv = await lookup.QueryAsync(_srvName, QueryType.SRV, QueryClass.IN, cancellationToken).ConfigureAwait(false);
        var records = srv.Answers.SrvRecords().Take(options.MaxEndpoints).ToList();
        if (records.Count > 0)
        {
            foreach (var record in records)
            {
                foreach (var address in await AddressesOfAsync(record.Target.Value, srv.Additionals, cancellationToken).ConfigureAwait(false))
                {
                    if (endpoints.Endpoints.Count < options.MaxEndpoints)
                    {
                        endpoints.Endpoints.Add(ServiceEndpoint.Create(new IPEndPoint(address, record.Port)));
                    }
                }
            }

            return;
        }

        if (options.FallBackToAddressRecords)
        {
            foreach (var address in await AddressesOfAsync(_serviceHost, [], cancellationToken).ConfigureAwait(false))
            {
                if (endpoints.Endpoints.Count < options.MaxEndpoints)
                {
                    endpoints.Endpoints.Add(ServiceEndpoint.Create(new IPEndPoint(address, 0)));
                }
            }
        }
    }

    /// <summary>The addresses of <paramref name="host"/>: from <paramref name="additionals"/> when they have any, else from A and AAAA queries.</summary>
    private async Task<List<IPAddress>> AddressesOfAsync(string host, IReadOnlyList<DnsResourceRecord> additionals, CancellationToken cancellationToken)
    {
        var name = host.TrimEnd('.');
        var given = additionals.ARecords().Select(a => (a.DomainName.Value, a.Address))
            .Concat(additionals.AaaaRecords().Select(a => (a.DomainName.Value, a.Address)))
            .Where(record => string.Equals(record.Value.TrimEnd('.'), name, StringComparison.OrdinalIgnoreCase))
            .Select(record => record.Address)
            .ToList();
        if (given.Count > 0)
        {
            return given;
        }

        if (IPAddress.TryParse(name, out var literal))
        {
            return [literal];
        }

        var v4 = await lookup.QueryAsync(name, QueryType.A, QueryClass.IN, cancellationToken).ConfigureAwait(false);
        var v6 = await lookup.QueryAsync(name, QueryType.AAAA, QueryClass.IN, cancellationToken).ConfigureAwait(false);
        return [.. v4.Answers.ARecords().Select(a => a.Address).Concat(v6.Answers.AaaaRecords().Select(a => a.Address)).Take(options.MaxEndpoints)];
    }

    /// <summary>Nothing to release: the DNS client belongs to the factory.</summary>
    public ValueTask DisposeAsync() => ValueTask.CompletedTask;

    private static string WithSuffix(string name, string? suffix) =>
        string.IsNullOrEmpty(suffix) ? name : $"{name}.{suffix.TrimStart('.')}";
}
