using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;

namespace RpcGen.Hosting.Tests;

/// <summary>Interceptors registered through dependency injection run on the hosted server and on typed clients.</summary>
public sealed class InterceptorRegistrationTests
{
    private static readonly TimeSpan Timeout = TimeSpan.FromSeconds(30);

    [Fact]
    public async Task A_client_interceptor_from_the_container_adds_a_header_a_server_interceptor_from_the_container_requires()
    {
        using var host = Build(clientInterceptor: false);
        await host.StartAsync();
        var address = host.Services.GetRequiredService<RpcGenServerHost>().Addresses[0];

        // Without the client interceptor the server's interceptor refuses the call...
        await using (var bare = await Transport.Message.RpcClient.ConnectAsync(address).WaitAsync(Timeout))
        {
            var refused = await Assert.ThrowsAsync<RpcException>(() => bare.GetService<IScopeProbe>().EchoAsync("x").WaitAsync(Timeout));
            Assert.Equal(RpcStatusCode.Failed, refused.StatusCode);
            Assert.Contains("x-tenant", refused.Message);
        }

        await host.StopAsync();

        // ...and an injected client with it registered gets through, with the tenant the container gave.
        using var second = Build(clientInterceptor: true);
        await second.StartAsync();
        Assert.Equal("acme:hello", await second.Services.GetRequiredService<IScopeProbe>().EchoAsync("hello").WaitAsync(Timeout));
        Assert.Equal(1, second.Services.GetRequiredService<RequireTenant>().Admitted);
        await second.StopAsync();
    }

    private static IHost Build(bool clientInterceptor)
    {
        var builder = Host.CreateEmptyApplicationBuilder(new HostApplicationBuilderSettings());
        builder.Services.AddSingleton<Lifetimes>().AddSingleton<Gates>().AddScoped<ScopedDependency>();
        builder.Services.AddSingleton(new TenantName("acme"));
        builder.Services.AddRpcGen(o => o.Addresses.Add("tcp://127.0.0.1:0"))
            .AddService<IScopeProbe, ScopeProbe>()
            .AddInterceptor<RequireTenant>();
        builder.Services.AddRpcClient<IScopeProbe>(typeof(IScopeProbe).FullName!, (o, services) => o.Address = services.GetRequiredService<RpcGenServerHost>().Addresses[0]);
        if (clientInterceptor)
        {
            builder.Services.AddRpcClientInterceptor<AddTenant>();
        }

        return builder.Build();
    }
}

public sealed record TenantName(string Value);

/// <summary>Refuses calls without an <c>x-tenant</c> header and counts the ones it admits.</summary>
public sealed class RequireTenant : RpcServerInterceptor
{
    private int _admitted;

    public int Admitted => Volatile.Read(ref _admitted);

    public override ValueTask InterceptAsync(RpcCallContext context, RpcServerContinuation next)
    {
        if (context.RequestHeaders.GetString("x-tenant") is null)
        {
            throw new RpcException(RpcStatusCode.Failed, "The call has no x-tenant header.");
        }

        Interlocked.Increment(ref _admitted);
        return next(context);
    }
}

/// <summary>Adds the container's tenant to every call, and prefixes echoed text with it on the way back.</summary>
public sealed class AddTenant(TenantName tenant) : RpcClientInterceptor
{
    public override async ValueTask<TResponse> InterceptAsync<TRequest, TResponse>(RpcClientCallContext context, TRequest request, RpcClientContinuation<TRequest, TResponse> next)
    {
        context.RequestHeaders.Add("x-tenant", tenant.Value);
        var response = await next(context, request);
        return response is string text ? (TResponse)(object)$"{tenant.Value}:{text}" : response;
    }
}
