namespace RpcGen.Transport.Message.Tests;

public record Point(int X, int Y);

public sealed class Shape
{
    public string Name { get; set; } = "";

    public List<Point> Points { get; set; } = new();

    public Dictionary<string, double>? Tags { get; set; }
}

[RpcService(0x5E57_0000_0000_0001)]
public interface IScenarioService
{
    [RpcMethod(1)]
    Task<Shape> EchoAsync(Shape shape, CancellationToken cancellationToken = default);

    [RpcMethod(2)]
    ValueTask<int> AddAsync(int a, int b);

    [RpcMethod(3)]
    [OneWay]
    void Notify(string message);

    [RpcMethod(4)]
    Task WaitUntilCancelledAsync(string key, CancellationToken cancellationToken);

    [RpcMethod(5)]
    Task<double?> RemainingMillisecondsAsync();

    [RpcMethod(6)]
    Task FailAsync(string message);

    [RpcMethod(7)]
    Task<int> GateAsync(int id);

    [RpcMethod(8)]
    Task<string?> PeerAsync();

    [RpcMethod(9)]
    Task<byte[]> BlobAsync(int size);

    [RpcMethod(10)]
    [OneWay]
    ValueTask NotifyAsync(string message);
}

/// <summary>A second service on the same server, to prove one bad call or connection leaves others alone.</summary>
[RpcService]
public interface IOtherService
{
    Task<string> PingAsync(string text);
}
