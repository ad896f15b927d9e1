using RpcGen;

namespace HostedService;

public sealed record Order(int Id, string Item, int Quantity);

[RpcService]
public interface IOrderService
{
    Task<Order> PlaceAsync(string item, int quantity);

    Task<int> CountAsync();
}
