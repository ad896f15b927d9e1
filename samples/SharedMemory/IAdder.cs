using RpcGen;

namespace SharedMemorySample;

/// <summary>The one call the sample times: small request, small answer, so the transport dominates.</summary>
[RpcService]
public interface IAdder
{
    /// <summary>Adds two numbers.</summary>
    Task<int> AddAsync(int a, int b);
}

/// <summary>The server side, in the child process.</summary>
public sealed class Adder : IAdder
{
    /// <inheritdoc />
    public Task<int> AddAsync(int a, int b) => Task.FromResult(a + b);
}
