namespace RpcGen.Capnp.Tests.Allocation;

/// <summary>The benchmark's echo: a small struct of the five field kinds, sent and returned.</summary>
[RpcService(0xd1f0_5e7a_0000_0a11)]
public interface IEchoProbe
{
    Task<EchoSample> EchoAsync(EchoSample sample);
}

/// <summary>The five fields of the benchmarks' small message.</summary>
public sealed class EchoSample
{
    public int Id { get; set; }

    public string Name { get; set; } = string.Empty;

    public double Value { get; set; }

    public long Timestamp { get; set; }

    public bool Flag { get; set; }
}

/// <summary>Answers with what it was sent, as the benchmark's server does.</summary>
public sealed class EchoProbeService : IEchoProbe
{
    public Task<EchoSample> EchoAsync(EchoSample sample) => Task.FromResult(sample);
}

/// <summary>Tests that measure the process's allocations run alone, so other tests' allocations do not count as theirs.</summary>
[CollectionDefinition(nameof(MeasuresAllocation), DisableParallelization = true)]
public sealed class MeasuresAllocation;

/// <summary>
/// In steady state a Cap'n Proto call through the generated proxy allocates a bounded, small amount,
/// client and server together, over a real loopback connection with the default (thread-pool) handler
/// execution. Client and server share this process, so the process's allocated bytes count both; the
/// test runs alone and takes the least of several rounds, so a timer or thread-pool thread that
/// allocates during one round does not count as the calls'.
/// </summary>
[Collection(nameof(MeasuresAllocation))]
public sealed class CallAllocationTests
{
    private static readonly TimeSpan Timeout = TimeSpan.FromSeconds(60);
    private const int WarmupCalls = 5_000;
    private const int CallsPerRound = 5_000;
    private const int Rounds = 5;

    // What one echo may allocate, client and server together (Debug build). A guard at today's level,
    // not the goal: 4,488 B before the builders kept their first segment inline, received messages
    // dropped their segment arrays and the answer was told its outcome without a task (about 2,970 B
    // after); 2,216 B measured once the caller's promise was told its question's outcome without a
    // task, requests sent to a peer were reused, the connection reused the builder and the reader the
    // buffer of its Finish messages (Release build: 1,964 B). The goal is 512 B. What remains is named
    // in the README's performance section: the two received messages and their buffers, the server's
    // request, call context, pending call and answer, the client's question, promise, response task
    // and proxy state machine, two results objects, builders for the call and the results.
    private const int BudgetBytesPerCall = 2_500;

    [Theory]
    [InlineData("tcp")]
    [InlineData("unix")]
    public async Task An_echo_through_the_generated_proxy_allocates_within_budget_once_warm(string transport)
    {
        var address = transport == "tcp" ? "tcp://127.0.0.1:0" : "unix:" + Path.Combine(Path.GetTempPath(), $"rpcgen-alloc-{Guid.NewGuid():N}.sock");
        await using var server = CapnpServer.Listen<IEchoProbe>(address, new EchoProbeService());
        await using var connection = await CapnpConnection.ConnectAsync(server.Address).WaitAsync(Timeout);
        using var proxy = (IDisposable)connection.Bootstrap<IEchoProbe>();
        var echo = (IEchoProbe)proxy;
        var sample = new EchoSample { Id = 7, Name = "small", Value = 2.5, Timestamp = 1_700_000_000, Flag = true };

        // Fills the pools and lets the JIT settle.
        await CallAsync(echo, sample, WarmupCalls).WaitAsync(Timeout);

        var least = long.MaxValue;
        for (var round = 0; round < Rounds; round++)
        {
            var before = GC.GetTotalAllocatedBytes(precise: true);
            await CallAsync(echo, sample, CallsPerRound).WaitAsync(Timeout);
            least = Math.Min(least, GC.GetTotalAllocatedBytes(precise: true) - before);
        }

        Assert.True(
            least < (long)BudgetBytesPerCall * CallsPerRound,
            $"The least allocation over {Rounds} rounds of {CallsPerRound:N0} echoes was {least:N0} bytes ({(double)least / CallsPerRound:0.#} B a call); the budget is {BudgetBytesPerCall} B a call.");
    }

    private static async Task CallAsync(IEchoProbe echo, EchoSample sample, int calls)
    {
        for (var i = 0; i < calls; i++)
        {
            var result = await echo.EchoAsync(sample);
            if (result.Id != sample.Id || result.Name != sample.Name)
            {
                throw new InvalidOperationException("The echo came back different.");
            }
        }
    }
}
