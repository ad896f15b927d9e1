using Microsoft.CodeAnalysis;
using static RpcGen.Analyzers.Tests.AnalyzerHarness;

namespace RpcGen.Analyzers.Tests.Diagnostics;

public sealed class Rpc0030CapnpUnpinnedAmongPinnedTests
{
    [Fact]
    public async Task Each_unpinned_method_among_pinned_ones_is_reported_with_the_ordinal_it_takes()
    {
        var diagnostics = await VerifyAsync(CapabilityTransport + """
            namespace Shop
            {
                [RpcService(0xE1B2000000000001)]
                public interface ICalculator
                {
                    [RpcMethod(0)] Task<int> AddAsync(int a, int b);
                    Task<int> {|RPC0030:NegateAsync|}(int a);
                    Task {|RPC0030:ResetAsync|}();
                    [RpcMethod(1)] Task<int> SubtractAsync(int a, int b);
                }

                [RpcService(0xE1B2000000000002)]
                public interface IUnpinned
                {
                    Task<long> NowAsync();
                    Task ResetAsync();
                }
            }
            """);

        Assert.Equal(
            [
                "Method 'ICalculator.NegateAsync' has no [RpcMethod] while other methods of 'ICalculator' do: on Cap'n Proto it takes ordinal @2, the lowest one still free, whatever its declaration position (1); pin it",
                "Method 'ICalculator.ResetAsync' has no [RpcMethod] while other methods of 'ICalculator' do: on Cap'n Proto it takes ordinal @3, the lowest one still free, whatever its declaration position (2); pin it",
            ],
            diagnostics.Select(Message));
        Assert.All(diagnostics, d => Assert.Equal(DiagnosticSeverity.Warning, d.Severity));
    }
}
