namespace RpcGen.Transport.Message.Tests;

/// <summary>Answers all of a burst at once: each call waits until <see cref="Expected"/> calls have arrived.</summary>
[RpcService(0x5E57_0000_0000_0060)]
public interface IGatheringService
{
    [RpcMethod(1)]
    Task<int> GatherAsync(int index);
}

/// <summary>Holds every call until the <paramref name="expected"/>th arrives, then answers them together, so their answers leave in one burst.</summary>
public sealed class GatheringService(int expected) : IGatheringService
{
    private readonly TaskCompletionSource _all = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private int _arrived;

    public int Expected => expected;

    public async Task<int> GatherAsync(int index)
    {
        if (Interlocked.Increment(ref _arrived) == expected)
        {
            _all.SetResult();
        }

        await _all.Task.WaitAsync(TransportFixture.Timeout).ConfigureAwait(false);
        return index;
    }
}

/// <summary>
/// A caller's code after an await that blocks its thread holds up only itself: the other callers
/// answered in the same burst (most likely in the same read) still resume. Guards any change to how
/// answers complete their calls (one continuation work item each today; a batch per read was tried
/// and not kept, see results/shm.md).
/// </summary>
public sealed class BlockingContinuationTests
{
    private static readonly TimeSpan Patient = TimeSpan.FromSeconds(60);

    [Theory]
    [MemberData(nameof(TransportFixture.Transports), MemberType = typeof(TransportFixture))]
    public async Task A_continuation_that_blocks_does_not_hold_up_the_calls_answered_with_it(string transport)
    {
        var service = new GatheringService(expected: 32);
        await using var server = new RpcServer(TransportFixture.ServerOptions(transport));
        server.AddService<IGatheringService>(service);
        await server.StartAsync(TransportFixture.NewAddress(transport));
        await using var client = await TransportFixture.ConnectToAsync(server.Addresses[0]);
        var proxy = client.GetService<IGatheringService>();

        // The first caller to resume blocks its thread until every other caller has resumed too.
        using var allResumed = new ManualResetEventSlim(false);
        var resumed = 0;
        var first = 0;
        var sawAllResumed = true;
        async Task CallAsync(int index)
        {
            Assert.Equal(index, await proxy.GatherAsync(index).ConfigureAwait(false));
            if (Interlocked.Increment(ref resumed) == service.Expected)
            {
                allResumed.Set();
            }

            if (Interlocked.Exchange(ref first, 1) == 0)
            {
                sawAllResumed = allResumed.Wait(Patient);
            }
        }

        await Task.WhenAll(Enumerable.Range(0, service.Expected).Select(CallAsync)).WaitAsync(Patient + TransportFixture.Timeout);
        Assert.True(sawAllResumed, "The callers answered with the blocked one never resumed.");
    }
}
