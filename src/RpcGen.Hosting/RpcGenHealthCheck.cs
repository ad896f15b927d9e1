using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Diagnostics.HealthChecks;

namespace RpcGen.Hosting;

/// <summary>Healthy while the hosted RpcGen server listens; reports its addresses, connections, calls in flight and queued bytes.</summary>
internal sealed class RpcGenHealthCheck(RpcGenServerHost host) : IHealthCheck
{
    public Task<HealthCheckResult> CheckHealthAsync(HealthCheckContext context, CancellationToken cancellationToken = default)
    {
        if (host.Server is not { } server || !server.IsListening)
        {
            return Task.FromResult(HealthCheckResult.Unhealthy("The RpcGen server is not listening."));
        }

        var data = new Dictionary<string, object>
        {
            ["addresses"] = string.Join(' ', server.Addresses),
            ["connections"] = server.ConnectionCount,
            ["inflightCalls"] = server.InflightCalls,
            ["pendingOutboundBytes"] = server.PendingOutboundBytes,
        };
        return Task.FromResult(HealthCheckResult.Healthy($"Listening on {data["addresses"]}.", data));
    }
}

/// <summary>Adds the RpcGen server's health check.</summary>
public static class RpcGenHealthCheckExtensions
{
    /// <summary>Adds a check that is healthy while the server <c>AddRpcGen</c> registered is listening.</summary>
    public static IHealthChecksBuilder AddRpcGenHealthCheck(this IHealthChecksBuilder builder, string name = "rpcgen", HealthStatus? failureStatus = null, IEnumerable<string>? tags = null)
    {
        ArgumentNullException.ThrowIfNull(builder);
        return builder.Add(new HealthCheckRegistration(name, services => new RpcGenHealthCheck(services.GetRequiredService<RpcGenServerHost>()), failureStatus, tags));
    }
}
