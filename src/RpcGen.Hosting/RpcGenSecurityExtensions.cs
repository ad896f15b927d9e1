using Microsoft.Extensions.DependencyInjection;
using RpcGen.Security;

namespace RpcGen.Hosting;

/// <summary>TLS and authorization for the hosted server and typed clients (see the README's Security section).</summary>
public static class RpcGenSecurityExtensions
{
    /// <summary>The options name the hosted server's security settings are kept under.</summary>
    internal const string ServerName = "RpcGen.Server";

    /// <summary>
    /// Serves <c>tls://</c> and <c>tls+unix:</c> addresses with the TLS settings <paramref name="tls"/>
    /// builds (identity, CA, posture, known keys), resolved when the server starts.
    /// </summary>
    public static IRpcGenServerBuilder UseTls(this IRpcGenServerBuilder builder, Func<IServiceProvider, RpcTlsOptions> tls)
    {
        ArgumentNullException.ThrowIfNull(builder);
        ArgumentNullException.ThrowIfNull(tls);
        builder.Services.Configure<RpcGenSecurityOptions>(ServerName, o => o.Tls = tls);
        return builder;
    }

    /// <summary>Consults <paramref name="authorizer"/> before every call the hosted server serves; a denial fails the call with <see cref="RpcStatusCode.PermissionDenied"/>.</summary>
    public static IRpcGenServerBuilder UseAuthorizer(this IRpcGenServerBuilder builder, IRpcAuthorizer authorizer)
    {
        ArgumentNullException.ThrowIfNull(builder);
        ArgumentNullException.ThrowIfNull(authorizer);
        builder.Services.Configure<RpcGenSecurityOptions>(ServerName, o => o.Authorizer = authorizer);
        return builder;
    }

    /// <summary>Registers the policy <c>[RpcAuthorize(<paramref name="name"/>)]</c> names.</summary>
    public static IRpcGenServerBuilder AddAuthorizationPolicy(this IRpcGenServerBuilder builder, string name, IRpcAuthorizer policy)
    {
        ArgumentNullException.ThrowIfNull(builder);
        ArgumentException.ThrowIfNullOrEmpty(name);
        ArgumentNullException.ThrowIfNull(policy);
        builder.Services.Configure<RpcGenSecurityOptions>(ServerName, o => o.Policies[name] = policy);
        return builder;
    }

    /// <summary>Connects the typed client named <paramref name="clientName"/> (for a default client, the interface's full name) with the TLS settings <paramref name="tls"/> builds.</summary>
    public static IServiceCollection AddRpcClientTls(this IServiceCollection services, string clientName, Func<IServiceProvider, RpcTlsOptions> tls)
    {
        ArgumentNullException.ThrowIfNull(services);
        ArgumentNullException.ThrowIfNull(clientName);
        ArgumentNullException.ThrowIfNull(tls);
        services.Configure<RpcGenSecurityOptions>(clientName, o => o.Tls = tls);
        return services;
    }
}
