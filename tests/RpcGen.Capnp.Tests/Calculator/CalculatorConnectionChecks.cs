using RpcGen.Samples.Calculator;

namespace RpcGen.Capnp.Tests.Calculator;

/// <summary>Runs every calculator check over the bootstrap capability of each connection given.</summary>
internal static class CalculatorConnectionChecks
{
    public static async Task AssertAllPassOnEachAsync(TimeSpan timeout, params CapnpConnection[] connections)
    {
        foreach (var connection in connections)
        {
            using var calculator = (ICapnpProxy)connection.Bootstrap<ICalculator>();
            var results = await CalculatorChecks.RunAsync((ICalculator)calculator, timeout);
            Assert.Equal(CalculatorChecks.All.Count, results.Count);
            Assert.True(results.All(result => result.Passed), string.Join('\n', results));
        }
    }
}
