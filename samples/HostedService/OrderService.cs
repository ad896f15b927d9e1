using System.Collections.Concurrent;
using Microsoft.Extensions.Logging;

using RpcGen;

namespace HostedService;

/// <summary>The application's state: one for the process.</summary>
public sealed class OrderBook
{
    private int _lastId;

    public ConcurrentDictionary<int, Order> Orders { get; } = new();

    public int NextId() => Interlocked.Increment(ref _lastId);
}

/// <summary>A unit of work scoped to one call, the way a DbContext is: created for the call, disposed after it.</summary>
public sealed class UnitOfWork(OrderBook book, ILogger<UnitOfWork> logger) : IDisposable
{
    private readonly List<Order> _pending = [];

    public static int Disposed;

    public void Add(Order order) => _pending.Add(order);

    public void Commit()
    {
        foreach (var order in _pending)
        {
            book.Orders[order.Id] = order;
        }

        logger.LogInformation("Committed {Count} order(s)", _pending.Count);
        _pending.Clear();
    }

    public void Dispose() => Interlocked.Increment(ref Disposed);
}

/// <summary>Resolved per call from dependency injection, with the call's own <see cref="UnitOfWork"/>.</summary>
public sealed class OrderService(OrderBook book, UnitOfWork work) : IOrderService
{
    public Task<Order> PlaceAsync(string item, int quantity)
    {
        if (quantity <= 0)
        {
            throw new RpcException(RpcStatusCode.Failed, "Quantity must be positive.");
        }

        var order = new Order(book.NextId(), item, quantity);
        work.Add(order);
        work.Commit();
        return Task.FromResult(order);
    }

    public Task<int> CountAsync() => Task.FromResult(book.Orders.Count);
}
