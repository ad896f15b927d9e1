using Microsoft.CodeAnalysis;
using static RpcGen.Analyzers.Tests.AnalyzerHarness;

namespace RpcGen.Analyzers.Tests.Diagnostics;

public sealed class Rpc0022NoCapnpFormTests
{
    [Fact]
    public async Task Each_method_Cap_n_Proto_cannot_carry_is_reported_at_the_method_naming_the_type()
    {
        var diagnostics = await VerifyAsync(
            CapabilityTransport + """
            namespace Shop
            {
                public sealed record Quote(string Symbol, decimal Price);
                public sealed record Quote2(string Symbol, double Price);

                [RpcService]
                public interface IPrices
                {
                    Task<double> PriceAsync(string symbol, CancellationToken cancellationToken);
                    IAsyncEnumerable<int> {|RPC0022:TicksAsync|}(IAsyncEnumerable<int> counts);
                    Task<Quote> {|RPC0022:QuoteAsync|}(string symbol);
                    Task<int[]> CountsAsync(List<string> symbols);
                    IAsyncEnumerable<int> WatchAsync(string symbol);
                    Task<long> UploadAsync(IAsyncEnumerable<Quote2> quotes);
                    Task<double> {|RPC0022:SumAsync|}(IAsyncEnumerable<decimal> prices);
                }
            }
            """);

        Assert.Equal(3, diagnostics.Length);
        Assert.All(diagnostics, d => Assert.Equal(DiagnosticSeverity.Warning, d.Severity));
        Assert.Equal(
            "Method 'IPrices.TicksAsync' has no Cap'n Proto form (it streams both ways, and the Cap'n Proto binding maps a streamed parameter or a streamed result, not both): over Cap'n Proto its calls fail with Unimplemented; it works on the message transport",
            Message(diagnostics[0]));
        Assert.Equal(
            "Method 'IPrices.QuoteAsync' has no Cap'n Proto form (the result: 'decimal' has no Cap'n Proto type): over Cap'n Proto its calls fail with Unimplemented; it works on the message transport",
            Message(diagnostics[1]));
        Assert.Equal(
            "Method 'IPrices.SumAsync' has no Cap'n Proto form (the items of parameter 'prices': 'decimal' has no Cap'n Proto type): over Cap'n Proto its calls fail with Unimplemented; it works on the message transport",
            Message(diagnostics[2]));
    }

    [Fact]
    public async Task Without_the_capability_transport_nothing_is_reported()
    {
        await VerifyCleanAsync(
            """
            namespace Shop;

            [RpcService]
            public interface IPrices
            {
                IAsyncEnumerable<int> TicksAsync();
                Task<decimal> PriceAsync(string symbol);
            }
            """);
    }
}
