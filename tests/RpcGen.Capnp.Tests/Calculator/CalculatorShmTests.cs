using RpcGen.Samples.Calculator;
using RpcGen.Transport.Flow;
using RpcGen.Transport.SharedMemory;

namespace RpcGen.Capnp.Tests.Calculator;

/// <summary>
/// The calculator checks (calls, capabilities passed both ways, promise pipelining) with Cap'n Proto
/// carried by shared memory: straight over a <c>shm:</c> link, and as flows on one (<c>flow+shm:</c>).
/// Only the address changes.
/// </summary>
public sealed class CalculatorShmTests
{
    private static readonly TimeSpan Timeout = TimeSpan.FromSeconds(30);

    static CalculatorShmTests()
    {
        SharedMemoryLinks.Register();
        FlowLinks.Register();
    }

    [Theory]
    [InlineData("shm:")]
    [InlineData("flow+shm:")]
    public async Task Calculator_checks_pass_over_shared_memory(string scheme)
    {
        var address = scheme + Path.Combine(Path.GetTempPath(), $"rpcgen-calc-shm-{Guid.NewGuid():N}.sock");
        await using var server = CapnpServer.Listen<ICalculator>(address, new CalculatorService());
        Assert.StartsWith(scheme, server.Address, StringComparison.Ordinal);
        await using var first = await CapnpConnection.ConnectAsync(server.Address).WaitAsync(Timeout);
        await using var second = await CapnpConnection.ConnectAsync(server.Address).WaitAsync(Timeout);
        await CalculatorConnectionChecks.AssertAllPassOnEachAsync(Timeout, first, second);

        if (scheme == "flow+shm:")
        {
            var link = await FlowManager.Default.FindCachedAsync(server.Address["flow+".Length..]);
            Assert.NotNull(link);
            Assert.True(link.FlowCount >= 2, $"both Cap'n Proto connections travel on one shared-memory link ({link.FlowCount} flows)");
        }
    }
}
