using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

namespace HostedService;

/// <summary>Calls the server through the injected client, reports, then stops the application.</summary>
public sealed class OrderWorker(IOrderService orders, IHostApplicationLifetime lifetime, ILogger<OrderWorker> logger) : BackgroundService
{
    public bool Succeeded { get; private set; }

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        try
        {
            var placed = await Task.WhenAll(
                orders.PlaceAsync("keyboard", 1),
                orders.PlaceAsync("monitor", 2),
                orders.PlaceAsync("cable", 5));
            var count = await orders.CountAsync();
            logger.LogInformation("Placed {Orders}; the server holds {Count} order(s)", string.Join(", ", placed.Select(o => $"#{o.Id} {o.Quantity}x {o.Item}")), count);
            Succeeded = count == 3 && UnitOfWork.Disposed >= 3;
        }
        catch (Exception ex)
        {
            logger.LogError(ex, "The calls failed");
        }
        finally
        {
            lifetime.StopApplication();
        }
    }
}
