using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using RpcGen.Security;

namespace RpcGen.Hosting.Tests;

/// <summary>TLS and authorization set through the host builder, with a typed client over TLS.</summary>
public sealed class HostedSecurityTests
{
    private static readonly TimeSpan Timeout = TimeSpan.FromSeconds(30);

    [Fact]
    public async Task A_hosted_tls_server_serves_a_typed_tls_client_and_its_authorizer_sees_the_client_certificate()
    {
        using var authority = RpcCertificates.CreateAuthority("hosting-test-ca");
        using var serverIdentity = RpcCertificates.IssueIdentity(authority, "server");
        using var allowedIdentity = RpcCertificates.IssueIdentity(authority, "alice");
        using var refusedIdentity = RpcCertificates.IssueIdentity(authority, "mallory");
        var clientName = typeof(IScopeProbe).FullName!;

        var builder = Host.CreateEmptyApplicationBuilder(new HostApplicationBuilderSettings());
        builder.Services.AddSingleton<Lifetimes>().AddSingleton<Gates>().AddScoped<ScopedDependency>();
        builder.Services.AddRpcGen(o => o.Addresses.Add("tls://127.0.0.1:0"))
            .AddService<IScopeProbe, ScopeProbe>()
            .UseTls(_ => new RpcTlsOptions { Certificate = serverIdentity, CertificateAuthorities = [authority] })
            .UseAuthorizer(RpcAuthorizer.From(call => call.PeerIdentity?.Name == "alice", "Only alice may call."));
        builder.Services.AddRpcClient<IScopeProbe>(clientName, (o, services) => o.Address = services.GetRequiredService<RpcGenServerHost>().Addresses[0]);
        builder.Services.AddRpcClientTls(clientName, _ => new RpcTlsOptions { Certificate = allowedIdentity, CertificateAuthorities = [authority] });
        builder.Services.AddRpcClient<IScopeProbe>("mallory", (o, services) => { o.Address = services.GetRequiredService<RpcGenServerHost>().Addresses[0]; o.Reconnect = false; });
        builder.Services.AddRpcClientTls("mallory", _ => new RpcTlsOptions { Certificate = refusedIdentity, CertificateAuthorities = [authority] });
        using var host = builder.Build();
        await host.StartAsync();

        Assert.StartsWith("tls://", host.Services.GetRequiredService<RpcGenServerHost>().Addresses[0]);
        Assert.Equal("over tls", await host.Services.GetRequiredService<IScopeProbe>().EchoAsync("over tls").WaitAsync(Timeout));

        var mallory = host.Services.GetRequiredService<RpcGenClientFactory>().GetService<IScopeProbe>("mallory");
        var refused = await Assert.ThrowsAsync<RpcException>(() => mallory.EchoAsync("let me in").WaitAsync(Timeout));
        Assert.Equal(RpcStatusCode.PermissionDenied, refused.StatusCode);
        Assert.Contains("Only alice", refused.Message);
        await host.StopAsync();
    }
}
