#pragma warning disable RPC0029, RPC0030 // one ordinal pinned among derived ids on purpose: the snapshots record the ids and Cap'n Proto ordinals this mix gives
using RpcGen;

namespace RpcGen.Generators.Tests.Contracts;

[RpcService]
public interface IGreeter
{
    Task<HelloReply> SayHelloAsync(HelloRequest request, CancellationToken cancellationToken = default);

    [OneWay]
    void Notify(string message);

    [RpcMethod(7)]
    ValueTask<int> AddAsync(int a, int b);

    Task PingAsync();

    [OneWay]
    ValueTask LogAsync(string line);
}

public record HelloRequest(string Name, int Times);

public sealed class HelloReply
{
    public string Message { get; set; } = "";

    public List<string>? Lines { get; init; }
}
