using Microsoft.CodeAnalysis;
using static RpcGen.Analyzers.Tests.AnalyzerHarness;

namespace RpcGen.Analyzers.Tests.Diagnostics;

public sealed class Rpc0020OneWayCancellationTests
{
    [Fact]
    public async Task A_one_way_method_with_a_token_is_reported_at_the_token_and_a_two_way_one_is_not()
    {
        var diagnostics = await VerifyAsync(
            """
            namespace Shop;

            [RpcService]
            public interface INotifier
            {
                [OneWay]
                ValueTask NotifyAsync(string message, {|RPC0020:CancellationToken cancellationToken|});

                [OneWay]
                void Touch(string sku);

                Task FlushAsync(CancellationToken cancellationToken);
            }
            """);

        var diagnostic = Assert.Single(diagnostics);
        Assert.Equal("[OneWay] method 'INotifier.NotifyAsync' takes CancellationToken 'cancellationToken', which nothing can cancel: a one-way call is sent at once and gets no reply", Message(diagnostic));
        Assert.Equal(DiagnosticSeverity.Warning, diagnostic.Severity);
    }
}
