using Microsoft.CodeAnalysis;
using static RpcGen.Analyzers.Tests.AnalyzerHarness;

namespace RpcGen.Analyzers.Tests.Diagnostics;

public sealed class Rpc0029CapnpOrdinalGapTests
{
    private const string Contract = """
        namespace Shop
        {
            [RpcService(0xE1B2000000000001)]
            public interface ICalculator
            {
                [RpcMethod(0)] Task<int> AddAsync(int a, int b);
                [RpcMethod({|RPC0029:3|})] Task<int> NegateAsync(int a);
                [RpcMethod(1)] Task ResetAsync();
            }

            [RpcService(0xE1B2000000000002)]
            public interface IClock
            {
                [RpcMethod(1)] Task<long> NowAsync();
                [RpcMethod(0)] Task ResetAsync();
            }
        }
        """;

    [Fact]
    public async Task A_pinned_ordinal_past_the_method_count_is_reported_naming_the_unused_ones()
    {
        var diagnostic = Assert.Single(await VerifyAsync(CapabilityTransport + Contract));
        Assert.Equal(DiagnosticSeverity.Warning, diagnostic.Severity);
        Assert.Equal(
            "Method 'ICalculator.NegateAsync' pins Cap'n Proto ordinal 3, but interface 'ICalculator' has 3 methods, leaving @2 unused; capnp compile rejects an interface whose ordinals skip numbers",
            Message(diagnostic));
    }

    [Fact]
    public async Task Without_the_capability_transport_nothing_is_reported()
    {
        await VerifyCleanAsync(Contract.Replace("{|RPC0029:3|}", "3"));
    }
}
