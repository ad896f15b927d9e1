namespace RpcGen.Transport.Message.Tests;

/// <summary>
/// A service only <see cref="TelemetryTests"/> calls, so the measurements it filters by
/// <c>rpc.service</c> are its own even while other tests make calls in parallel.
/// </summary>
[RpcService(0x5E57_0000_0000_0021)]
public interface ITelemetryProbe
{
    [RpcMethod(1)]
    Task<int> AddAsync(int a, int b);

    [RpcMethod(2)]
    Task FailAsync();
}

public sealed class TelemetryProbe : ITelemetryProbe
{
    public Task<int> AddAsync(int a, int b) => Task.FromResult(a + b);

    public Task FailAsync() => throw new RpcException(RpcStatusCode.Overloaded, "busy");
}
