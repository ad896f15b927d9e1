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

                [RpcService]
                public interface IPrices
                {
                    Task<double> PriceAsync(string symbol, CancellationToken cancellationToken);
                    IAsyncEnumerable<int> {|RPC0022:TicksAsync|}();
                    Task<Quote> {|RPC0022:QuoteAsync|}(string symbol);
                    Task<int[]> CountsAsync(List<string> symbols);
                }
            }
            """);

        Assert.Equal(2, diagnostics.Length);
        Assert.All(diagnostics, d => Assert.Equal(DiagnosticSeverity.Warning, d.Severity));
        Assert.Equal(
            "Method 'IPrices.TicksAsync' has no Cap'n Proto form (it streams, and Cap'n Proto calls do not): over Cap'n Proto its calls fail with Unimplemented; it works on the message transport",
            Message(diagnostics[0]));
        Assert.Equal(
            "Method 'IPrices.QuoteAsync' has no Cap'n Proto form (the result: 'decimal' has no Cap'n Proto type): over Cap'n Proto its calls fail with Unimplemented; it works on the message transport",
            Message(diagnostics[1]));
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
