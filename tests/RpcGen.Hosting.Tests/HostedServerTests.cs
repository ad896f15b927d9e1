using System.Diagnostics;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Diagnostics.HealthChecks;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Options;
using OpenTelemetry;
using OpenTelemetry.Metrics;
using OpenTelemetry.Trace;
using RpcGen.Compression;
using RpcGen.Telemetry;

namespace RpcGen.Hosting.Tests;

/// <summary>AddRpcGen and AddRpcClient in a real generic host, over real loopback sockets.</summary>
public sealed class HostedServerTests
{
    private static readonly TimeSpan Timeout = TimeSpan.FromSeconds(30);

    [Fact]
    public async Task Each_call_gets_its_own_scope_and_its_scoped_dependencies_are_disposed_after_it()
    {
        using var host = await StartHostAsync(RpcServiceLifetime.PerCall);
        var probe = host.Services.GetRequiredService<IScopeProbe>();
        var lifetimes = host.Services.GetRequiredService<Lifetimes>();

        var first = await probe.ReportAsync().WaitAsync(Timeout);
        var second = await probe.ReportAsync().WaitAsync(Timeout);

        Assert.NotEqual(first.ImplementationId, second.ImplementationId);
        Assert.NotEqual(first.DependencyId, second.DependencyId);
        await lifetimes.WaitUntilDisposedAsync(first.DependencyId);
        await lifetimes.WaitUntilDisposedAsync(second.DependencyId);
    }

    [Fact]
    public async Task A_scope_lives_as_long_as_its_call()
    {
        using var host = await StartHostAsync(RpcServiceLifetime.PerCall);
        var probe = host.Services.GetRequiredService<IScopeProbe>();
        var lifetimes = host.Services.GetRequiredService<Lifetimes>();
        var gates = host.Services.GetRequiredService<Gates>();

        var waiting = probe.WaitForGateAsync();
        await gates.Entered.Task.WaitAsync(Timeout);
        var during = await probe.ReportAsync().WaitAsync(Timeout);
        await lifetimes.WaitUntilDisposedAsync(during.DependencyId);

        // Two scopes were made (the waiting call's and the report's); only the report's ended.
        Assert.Single(lifetimes.Disposed);
        gates.Open.SetResult();
        Assert.Equal(1, await waiting.WaitAsync(Timeout));
        await WaitForAsync(() => lifetimes.Disposed.Count == 2, lifetimes);
    }

    [Fact]
    public async Task A_singleton_serves_every_call()
    {
        using var host = await StartHostAsync(RpcServiceLifetime.Singleton);
        var probe = host.Services.GetRequiredService<IScopeProbe>();

        var first = await probe.ReportAsync().WaitAsync(Timeout);
        var second = await probe.ReportAsync().WaitAsync(Timeout);

        Assert.Equal(first, second);
    }

    [Fact]
    public async Task Server_and_client_settings_bind_from_configuration()
    {
        var settings = new Dictionary<string, string?>
        {
            ["RpcGen:Addresses:0"] = "tcp://127.0.0.1:0",
            ["RpcGen:Limits:MaxFrameBytes"] = "65536",
            ["RpcGen:Limits:MaxConcurrentCalls"] = "64",
            ["RpcGen:Compression"] = "Lz4",
            ["RpcGen:HandlerExecution"] = "Inline",
            ["RpcGen:ShutdownTimeout"] = "00:00:07",
            ["Clients:Probe:DefaultTimeout"] = "00:00:09",
            ["Clients:Probe:Reconnect"] = "false",
        };
        var builder = Host.CreateEmptyApplicationBuilder(new HostApplicationBuilderSettings());
        builder.Configuration.AddInMemoryCollection(settings);
        builder.Services.AddSingleton<Lifetimes>().AddSingleton<Gates>().AddScoped<ScopedDependency>();
        builder.Services.AddRpcGen(builder.Configuration.GetSection("RpcGen")).AddService<IScopeProbe, ScopeProbe>();
        builder.Services.AddRpcClient<IScopeProbe>(builder.Configuration.GetSection("Clients:Probe"));
        using var host = builder.Build();

        var server = host.Services.GetRequiredService<IOptions<RpcGenServerOptions>>().Value;
        Assert.Equal(["tcp://127.0.0.1:0"], server.Addresses);
        Assert.Equal(65536, server.Limits.MaxFrameBytes);
        Assert.Equal(64, server.Limits.MaxConcurrentCalls);
        Assert.Equal(RpcLimits.Default.MaxPendingBytes, server.Limits.MaxPendingBytes);
        Assert.Equal(RpcCompression.Lz4, server.Compression);
        Assert.Equal(RpcHandlerExecution.Inline, server.HandlerExecution);
        Assert.Equal(TimeSpan.FromSeconds(7), server.ShutdownTimeout);

        var client = host.Services.GetRequiredService<IOptionsMonitor<RpcGenClientOptions>>().Get(typeof(IScopeProbe).FullName);
        Assert.Equal(TimeSpan.FromSeconds(9), client.DefaultTimeout);
        Assert.False(client.Reconnect);

        // The bound limit is the one the running server enforces.
        await host.StartAsync();
        var address = host.Services.GetRequiredService<RpcGenServerHost>().Addresses[0];
        await using var direct = await Transport.Message.RpcClient.ConnectAsync(address).WaitAsync(Timeout);
        var tooLarge = await Assert.ThrowsAsync<RpcException>(() => direct.GetService<IScopeProbe>().EchoAsync(new string('x', 70_000)).WaitAsync(Timeout));
        Assert.Equal(RpcStatusCode.InvalidPayload, tooLarge.StatusCode);
        await host.StopAsync();
    }

    [Fact]
    public async Task Stopping_the_host_refuses_new_calls_and_lets_the_one_in_flight_finish()
    {
        using var host = await StartHostAsync(RpcServiceLifetime.PerCall);
        var probe = host.Services.GetRequiredService<IScopeProbe>();
        var gates = host.Services.GetRequiredService<Gates>();

        var inFlight = probe.WaitForGateAsync();
        await gates.Entered.Task.WaitAsync(Timeout);
        var stopping = host.StopAsync();

        var refused = await Assert.ThrowsAsync<RpcException>(() => probe.EchoAsync("late").WaitAsync(Timeout));
        Assert.Equal(RpcStatusCode.Disconnected, refused.StatusCode);
        Assert.False(stopping.IsCompleted);

        gates.Open.SetResult();
        Assert.Equal(1, await inFlight.WaitAsync(Timeout));
        await stopping.WaitAsync(Timeout);
        Assert.False(host.Services.GetRequiredService<RpcGenServerHost>().Server!.IsListening);
    }

    [Fact]
    public async Task Named_clients_share_nothing_and_the_default_one_is_injected()
    {
        var builder = NewBuilder(RpcServiceLifetime.PerCall);
        builder.Services.AddRpcClient<IScopeProbe>("second", (o, services) => o.Address = services.GetRequiredService<RpcGenServerHost>().Addresses[0]);
        using var host = builder.Build();
        await host.StartAsync();
        var server = host.Services.GetRequiredService<RpcGenServerHost>().Server!;

        var injected = host.Services.GetRequiredService<IScopeProbe>();
        var named = host.Services.GetRequiredService<RpcGenClientFactory>().GetService<IScopeProbe>("second");
        Assert.Equal("one", await injected.EchoAsync("one").WaitAsync(Timeout));
        Assert.Equal("two", await named.EchoAsync("two").WaitAsync(Timeout));
        Assert.Equal("three", await host.Services.GetRequiredService<IScopeProbe>().EchoAsync("three").WaitAsync(Timeout));

        // Two names, two connections; more proxies of one name share its connection.
        Assert.Equal(2, server.ConnectionCount);
        await host.StopAsync();
    }

    [Fact]
    public async Task The_health_check_follows_the_server()
    {
        var builder = NewBuilder(RpcServiceLifetime.PerCall);
        builder.Services.AddHealthChecks().AddRpcGenHealthCheck();
        using var host = builder.Build();
        var health = host.Services.GetRequiredService<HealthCheckService>();

        Assert.Equal(HealthStatus.Unhealthy, (await health.CheckHealthAsync()).Status);
        await host.StartAsync();
        await host.Services.GetRequiredService<IScopeProbe>().EchoAsync("warm").WaitAsync(Timeout);
        var running = await health.CheckHealthAsync();
        Assert.Equal(HealthStatus.Healthy, running.Status);
        Assert.Equal(1, running.Entries["rpcgen"].Data["connections"]);
        await host.StopAsync();
        Assert.Equal(HealthStatus.Unhealthy, (await health.CheckHealthAsync()).Status);
    }

    [Fact]
    public async Task Calls_through_the_host_are_traced_and_measured_with_OpenTelemetry()
    {
        var spans = new List<Activity>();
        var metrics = new List<Metric>();
        using var tracing = Sdk.CreateTracerProviderBuilder().AddSource(RpcTelemetry.Name).AddInMemoryExporter(spans).Build();
        using var meters = Sdk.CreateMeterProviderBuilder().AddMeter(RpcTelemetry.Name).AddInMemoryExporter(metrics).Build();
        using var host = await StartHostAsync(RpcServiceLifetime.PerCall);
        var probe = host.Services.GetRequiredService<IScopeProbe>();

        for (var i = 0; i < 3; i++)
        {
            await probe.EchoAsync("traced").WaitAsync(Timeout);
        }

        await host.StopAsync();
        tracing.ForceFlush();
        meters.ForceFlush();

        // The listeners are process-wide: keep only this contract's calls (no other test uses it for Echo).
        var echoSpans = spans.Where(s => s.DisplayName.Contains(nameof(IScopeProbe), StringComparison.Ordinal) && s.DisplayName.EndsWith("EchoAsync", StringComparison.Ordinal)).ToList();
        Assert.True(echoSpans.Count(s => s.Kind == ActivityKind.Client) >= 3, string.Join(", ", spans.Select(s => s.DisplayName)));
        Assert.True(echoSpans.Count(s => s.Kind == ActivityKind.Server) >= 3, string.Join(", ", spans.Select(s => s.DisplayName)));
        Assert.Contains(metrics, m => m.MeterName == RpcTelemetry.Name && m.Name.Contains("server", StringComparison.Ordinal));
        Assert.Contains(metrics, m => m.MeterName == RpcTelemetry.Name && m.Name.Contains("client", StringComparison.Ordinal));
    }

    private static HostApplicationBuilder NewBuilder(RpcServiceLifetime lifetime)
    {
        var builder = Host.CreateEmptyApplicationBuilder(new HostApplicationBuilderSettings());
        builder.Services.AddSingleton<Lifetimes>().AddSingleton<Gates>().AddScoped<ScopedDependency>();
        builder.Services.AddRpcGen(o => o.Addresses.Add("tcp://127.0.0.1:0")).AddService<IScopeProbe, ScopeProbe>(lifetime);
        builder.Services.AddRpcClient<IScopeProbe>(typeof(IScopeProbe).FullName!, (o, services) => o.Address = services.GetRequiredService<RpcGenServerHost>().Addresses[0]);
        return builder;
    }

    private static async Task<IHost> StartHostAsync(RpcServiceLifetime lifetime)
    {
        var host = NewBuilder(lifetime).Build();
        await host.StartAsync();
        return host;
    }

    private static async Task WaitForAsync(Func<bool> condition, Lifetimes lifetimes)
    {
        using var timeout = new CancellationTokenSource(Timeout);
        while (!condition())
        {
            await lifetimes.DisposedSignal.WaitAsync(timeout.Token);
        }
    }
}
