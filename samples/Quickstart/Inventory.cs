using System.Collections.Concurrent;
using System.Threading.Channels;

namespace Quickstart;

/// <summary>The server-side implementation: plain C#, nothing RPC-specific.</summary>
public sealed class Inventory : IInventory
{
    private readonly ConcurrentDictionary<string, int> _stock = new();

    public Channel<string> LogLines { get; } = Channel.CreateUnbounded<string>();

    public Task<Stock> AddAsync(Item item, CancellationToken cancellationToken = default)
    {
        var quantity = _stock.AddOrUpdate(item.Name, item.Quantity, (_, current) => current + item.Quantity);
        return Task.FromResult(new Stock(item.Name, quantity, DateTime.UtcNow));
    }

    public Task<Stock> GetStockAsync(string name) =>
        _stock.TryGetValue(name, out var quantity)
            ? Task.FromResult(new Stock(name, quantity, DateTime.UtcNow))
            : throw new KeyNotFoundException($"No item named '{name}'.");

    public void Log(string message) => LogLines.Writer.TryWrite(message);
}
