using RpcGen;

namespace RpcGen.Generators.Tests.Contracts;

public interface IHealth
{
    Task<bool> PingAsync(CancellationToken cancellationToken = default);
}

/// <summary>A service that inherits methods and overloads one.</summary>
[RpcService]
public interface IWorker : IHealth
{
    Task<int> WorkAsync(int units);

    Task<int> WorkAsync(int units, string label);
}
