using System.Net;

namespace RpcGen.Balancing;

/// <summary>
/// Settings of the DNS endpoint provider (<see cref="RpcServiceDiscoveryExtensions.AddRpcDnsSrvServiceEndpointProvider"/>):
/// which SRV name a logical name becomes, and which server answers.
/// </summary>
/// <remarks>
/// A Kubernetes headless service <c>catalog</c> in namespace <c>shop</c> with a port named <c>rpc</c>
/// publishes <c>_rpc._tcp.catalog.shop.svc.cluster.local</c>: resolve <c>_rpc.catalog</c> with
/// <see cref="QuerySuffix"/> <c>shop.svc.cluster.local</c>.
/// </remarks>
public sealed class RpcDnsSrvOptions
{
    /// <summary>Appended (after a dot) to the service name in every query, e.g. <c>shop.svc.cluster.local</c>. Default none.</summary>
    public string? QuerySuffix { get; set; }

    /// <summary>The endpoint (SRV port) name used when the service name names none. Default <c>rpc</c>.</summary>
    public string DefaultEndpointName { get; set; } = "rpc";

    /// <summary>The DNS server to ask; null (the default) asks the system's.</summary>
    public IPEndPoint? NameServer { get; set; }

    /// <summary>How long one query may take. Default 5 s.</summary>
    public TimeSpan QueryTimeout { get; set; } = TimeSpan.FromSeconds(5);

    /// <summary>
    /// When no SRV record exists, look up the name's A and AAAA records instead (their port is the
    /// resolver's <see cref="RpcServiceDiscoveryResolver.DefaultPort"/>). Default true.
    /// </summary>
    public bool FallBackToAddressRecords { get; set; } = true;

    /// <summary>The most endpoints one answer may yield; the rest are ignored (an answer is untrusted input). Default 256.</summary>
    public int MaxEndpoints { get; set; } = 256;
}
