using RpcGen;

namespace Flows;

/// <summary>The contract the sample calls over flows: the same generated proxy runs over any transport.</summary>
[RpcService]
public interface IStation
{
    Task<int> AddAsync(int a, int b, CancellationToken cancellationToken = default);

    IAsyncEnumerable<int> CountAsync(int from, int count, CancellationToken cancellationToken = default);
}

/// <summary>The implementation.</summary>
public sealed class Station : IStation
{
    public Task<int> AddAsync(int a, int b, CancellationToken cancellationToken = default) => Task.FromResult(a + b);

    public async IAsyncEnumerable<int> CountAsync(int from, int count, [System.Runtime.CompilerServices.EnumeratorCancellation] CancellationToken cancellationToken = default)
    {
        for (var i = 0; i < count; i++)
        {
            await Task.Yield();
            yield return from + i;
        }
    }
}
