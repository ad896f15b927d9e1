using Microsoft.CodeAnalysis;
using static RpcGen.Analyzers.Tests.AnalyzerHarness;

namespace RpcGen.Analyzers.Tests.Diagnostics;

public sealed class Rpc0024SeveralCancellationTokensTests
{
    [Fact]
    public async Task Each_token_after_the_first_is_reported_and_the_first_is_not_called_misplaced()
    {
        var diagnostics = await VerifyAsync(
            """
            namespace Shop;

            [RpcService]
            public interface ISearch
            {
                Task<string[]> SearchAsync(string query, CancellationToken cancellationToken, {|RPC0024:CancellationToken timeout|});
                Task<int> CountAsync(CancellationToken cancellationToken);
            }
            """);

        var diagnostic = Assert.Single(diagnostics);
        Assert.Equal(DiagnosticSeverity.Error, diagnostic.Severity);
        Assert.Equal("Method 'ISearch.SearchAsync' takes a second CancellationToken 'timeout'; a call has one cancellation, carried by 'cancellationToken'", Message(diagnostic));
    }
}
