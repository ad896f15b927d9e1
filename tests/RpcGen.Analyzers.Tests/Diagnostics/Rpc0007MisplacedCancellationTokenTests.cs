using static RpcGen.Analyzers.Tests.AnalyzerHarness;

namespace RpcGen.Analyzers.Tests.Diagnostics;

public sealed class Rpc0007MisplacedCancellationTokenTests
{
    [Fact]
    public async Task Token_before_other_parameters_is_reported_and_a_second_token_is_RPC0024_instead()
    {
        var diagnostics = await VerifyAsync(
            """
            namespace Shop;

            [RpcService]
            public interface ISearch
            {
                Task<string[]> SearchAsync({|RPC0007:CancellationToken cancellationToken|}, string query);
                Task CopyAsync(string from, CancellationToken first, {|RPC0024:CancellationToken second|});
            }
            """);

        Assert.Equal(
            [
                "Parameter 'cancellationToken' of 'ISearch.SearchAsync' is a CancellationToken that is not the last parameter; a service method takes at most one CancellationToken, as its last parameter",
                "Method 'ISearch.CopyAsync' takes a second CancellationToken 'second'; a call has one cancellation, carried by 'first'",
            ],
            diagnostics.Select(Message));
    }

    [Fact]
    public async Task Token_as_the_last_parameter_is_not_reported()
    {
        await VerifyCleanAsync(
            """
            namespace Shop;

            [RpcService]
            public interface ISearch
            {
                Task<string[]> SearchAsync(string query, int limit, CancellationToken cancellationToken = default);
                Task PingAsync(CancellationToken cancellationToken);
            }
            """);
    }
}
