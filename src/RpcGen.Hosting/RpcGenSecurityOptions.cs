using RpcGen.Security;

namespace RpcGen.Hosting;

/// <summary>
/// Security settings of the hosted server or of one typed client, set in code through
/// <see cref="RpcGenSecurityExtensions"/>: certificates and authorizers are objects, not
/// configuration values, so they live apart from the options bound from configuration.
/// </summary>
internal sealed class RpcGenSecurityOptions
{
    public Func<IServiceProvider, RpcTlsOptions>? Tls { get; set; }

    public IRpcAuthorizer? Authorizer { get; set; }

    public Dictionary<string, IRpcAuthorizer> Policies { get; } = new(StringComparer.Ordinal);
}
