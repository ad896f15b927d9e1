using static RpcGen.Analyzers.Tests.AnalyzerHarness;

namespace RpcGen.Analyzers.Tests.Diagnostics;

public sealed class Rpc0004ByRefParameterTests
{
    [Fact]
    public async Task Ref_out_in_and_ref_readonly_parameters_are_reported()
    {
        var diagnostics = await VerifyAsync(
            """
            namespace Shop;

            [RpcService]
            public interface ICounter
            {
                Task IncrementAsync({|RPC0004:ref int counter|});
                Task ReadAsync({|RPC0004:out int value|});
                Task CompareAsync({|RPC0004:in decimal left|}, {|RPC0004:ref readonly decimal right|});
            }
            """);

        Assert.Equal(
            [
                "Parameter 'counter' of 'ICounter.IncrementAsync' is passed by 'ref'; service method parameters must be passed by value",
                "Parameter 'value' of 'ICounter.ReadAsync' is passed by 'out'; service method parameters must be passed by value",
                "Parameter 'left' of 'ICounter.CompareAsync' is passed by 'in'; service method parameters must be passed by value",
                "Parameter 'right' of 'ICounter.CompareAsync' is passed by 'ref readonly'; service method parameters must be passed by value",
            ],
            diagnostics.Select(Message));
    }

    [Fact]
    public async Task By_value_and_params_parameters_are_not_reported()
    {
        await VerifyCleanAsync(
            """
            namespace Shop;

            [RpcService]
            public interface ICounter
            {
                Task<int> SumAsync(int first, params int[] rest);
            }
            """);
    }
}
