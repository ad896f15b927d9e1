namespace RpcGen.Transport.Message.Tests;

/// <summary>A method with no arguments and no result, returning <see cref="ValueTask"/>: the empty message.</summary>
[RpcService(0x5E57_0000_0000_0A11)]
public interface IEmptyCallService
{
    [RpcMethod(1)]
    ValueTask PingAsync();
}

/// <summary>Answers at once, as the benchmark's empty call does.</summary>
public sealed class EmptyCallService : IEmptyCallService
{
    public ValueTask PingAsync() => default;
}

/// <summary>
/// In steady state an empty call allocates nothing, on the client or on the server, over a real
/// loopback link with the default (thread-pool) handler execution. Client and server share this
/// process, so the process's allocated bytes count both; the test runs alone (see
/// <see cref="MeasuresMemory"/>) and takes the least of several rounds, so a timer or thread-pool
/// thread that allocates during one round does not count as the call's.
/// </summary>
[Collection(nameof(MeasuresMemory))]
public class EmptyCallAllocationTests
{
    private const int WarmupCalls = 5_000;
    private const int CallsPerRound = 5_000;
    private const int Rounds = 5;

    [Theory]
    [InlineData("tcp")]
    [InlineData("unix")]
    public async Task A_ValueTask_call_with_no_arguments_and_no_result_allocates_nothing_once_warm(string transport)
    {
        await using var server = new RpcServer(TransportFixture.ServerOptions(transport));
        server.AddService<IEmptyCallService>(new EmptyCallService());
        await server.StartAsync(TransportFixture.NewAddress(transport)).WaitAsync(TransportFixture.Timeout);
        await using var client = await RpcClient.ConnectAsync(server.Addresses[0]).WaitAsync(TransportFixture.Timeout);
        var service = client.GetService<IEmptyCallService>();

        // Fills the pools (pending calls, frame buffers, server calls) and lets the JIT settle.
        await CallAsync(service, WarmupCalls).WaitAsync(TransportFixture.Timeout);

        var least = long.MaxValue;
        for (var round = 0; round < Rounds; round++)
        {
            var before = GC.GetTotalAllocatedBytes(precise: true);
            await CallAsync(service, CallsPerRound).WaitAsync(TransportFixture.Timeout);
            least = Math.Min(least, GC.GetTotalAllocatedBytes(precise: true) - before);
        }

        // Under 8 bytes a call: one object (24 B at least) allocated by even one call in three would
        // exceed it, while a lingering timer of an earlier test allocating in every round would not.
        // Before the client completed the ValueTask from its pending call, each call took a Task (108 B).
        Assert.True(least < 8L * CallsPerRound, $"The least allocation over {Rounds} rounds of {CallsPerRound:N0} calls was {least:N0} bytes ({(double)least / CallsPerRound:0.##} B a call).");
    }

    private static async Task CallAsync(IEmptyCallService service, int calls)
    {
        for (var i = 0; i < calls; i++)
        {
            await service.PingAsync();
        }
    }
}
