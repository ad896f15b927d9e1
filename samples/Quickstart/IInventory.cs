using RpcGen;

namespace Quickstart;

/// <summary>The contract: a plain interface. The generator writes the proxy, the dispatcher and the serializers.</summary>
[RpcService]
public interface IInventory
{
    Task<Stock> AddAsync(Item item, CancellationToken cancellationToken = default);

    Task<Stock> GetStockAsync(string name);

    [OneWay]
    void Log(string message);
}

/// <summary>A DTO: no attributes needed.</summary>
public record Item(string Name, int Quantity, List<string> Tags);

/// <summary>Another DTO, returned by the server.</summary>
public record Stock(string Name, int Quantity, DateTime UpdatedUtc);
