using System.Runtime.CompilerServices;
using RpcGen.Testing;
using RpcGen.Transport.Flow;

namespace RpcGen.Transport.SharedMemory.Tests;

/// <summary>
/// Tests against the test host as a real second process: it is started on a fresh address of the
/// given scheme (<c>shm</c>, <c>flow+shm</c>) before each test and stopped after it.
/// </summary>
public abstract class HostedProcessTests(string scheme) : IAsyncLifetime
{
    private protected static readonly TimeSpan s_timeout = TimeSpan.FromSeconds(30);

    private protected ChildServerProcess _host = null!;

    public async ValueTask InitializeAsync()
    {
        SharedMemoryLinks.Register();
        FlowLinks.Register();
        _host = await HostProcess.StartAsync(HostProcess.NewAddress(scheme));
    }

    public async ValueTask DisposeAsync() => await _host.DisposeAsync();

    /// <summary>0 to <paramref name="count"/> - 1, one at a time, for the host's streamed parameters.</summary>
    private protected static async IAsyncEnumerable<int> Produce(int count, [EnumeratorCancellation] CancellationToken cancellationToken = default)
    {
        for (var i = 0; i < count; i++)
        {
            cancellationToken.ThrowIfCancellationRequested();
            await Task.Yield();
            yield return i;
        }
    }

    /// <summary>A callback the host calls into: doubles what it gets and counts the calls.</summary>
    private protected sealed class Doubler : IShmCallback
    {
        public int Calls;

        public Task<int> TwiceAsync(int value)
        {
            Interlocked.Increment(ref Calls);
            return Task.FromResult(value * 2);
        }
    }
}
