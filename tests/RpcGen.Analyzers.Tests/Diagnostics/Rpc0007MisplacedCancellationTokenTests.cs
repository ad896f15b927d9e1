using static RpcGen.Analyzers.Tests.AnalyzerHarness;

namespace RpcGen.Analyzers.Tests.Diagnostics;

public sealed class Rpc0007MisplacedCancellationTokenTests
{
    [Fact]
    public async Task Token_before_other_parameters_and_every_token_but_the_last_are_reported()
    {
        var diagnostics = await VerifyAsync(
            """
            namespace Shop;

            [RpcService]
            public interface ISearch
            {
                Task<string[]> SearchAsync({|RPC0007:CancellationToken cancellationToken|}, string query);
                Task CopyAsync(string from, {|RPC0007:CancellationToken first|}, CancellationToken second);
            }
            """);

        Assert.Equal(
            [
                "Parameter 'cancellationToken' of 'ISearch.SearchAsync' is a CancellationToken that is not the last parameter; a service method takes at most one CancellationToken, as its last parameter",
                "Parameter 'first' of 'ISearch.CopyAsync' is a CancellationToken that is not the last parameter; a service method takes at most one CancellationToken, as its last parameter",
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
