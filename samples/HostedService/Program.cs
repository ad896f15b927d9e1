// A generic-host server with a service resolved per call from dependency injection, and a worker
// that calls it through an injected client; settings come from appsettings.json.
using HostedService;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using OpenTelemetry.Metrics;
using OpenTelemetry.Trace;
using RpcGen.Hosting;
using RpcGen.Telemetry;

// appsettings.json is read from beside the binary, so `dotnet run --project` works from anywhere.
var builder = Host.CreateApplicationBuilder(new HostApplicationBuilderSettings { Args = args, ContentRootPath = AppContext.BaseDirectory });

builder.Services.AddSingleton<OrderBook>();
builder.Services.AddScoped<UnitOfWork>();
builder.Services.AddRpcGen(builder.Configuration.GetSection("RpcGen"))
    .AddService<IOrderService, OrderService>();

// The client reads its settings from Clients:Orders; its address is the server's own (bound to a
// free port at start), which a real client would read from configuration too.
builder.Services.AddRpcClient<IOrderService>(builder.Configuration.GetSection("Clients:Orders"));
builder.Services.AddOptions<RpcGenClientOptions>(typeof(IOrderService).FullName)
    .Configure<RpcGenServerHost>((client, server) => client.Address ??= server.Addresses[0]);

builder.Services.AddSingleton<OrderWorker>();
builder.Services.AddHostedService(services => services.GetRequiredService<OrderWorker>());
builder.Services.AddHealthChecks().AddRpcGenHealthCheck();

if (builder.Configuration.GetValue<bool>("Sample:ConsoleTelemetry"))
{
    builder.Services.AddOpenTelemetry()
        .WithTracing(tracing => tracing.AddSource(RpcTelemetry.Name).AddConsoleExporter())
        .WithMetrics(metrics => metrics.AddMeter(RpcTelemetry.Name).AddConsoleExporter());
}

var host = builder.Build();
var worker = host.Services.GetRequiredService<OrderWorker>();
await host.RunAsync(); // returns once the worker stopped the application; disposes the host
if (!worker.Succeeded)
{
    Console.WriteLine("FAIL");
    return 1;
}

// After the host (and its telemetry exporters) have flushed and stopped.
Console.WriteLine("OK");
return 0;
