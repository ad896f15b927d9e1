using RpcGen.Analyzers.CodeFixes;

namespace RpcGen.Analyzers.Tests.CodeFixes;

public sealed class MoveCancellationTokenLastCodeFixTests
{
    private static readonly MoveCancellationTokenLastCodeFixProvider Provider = new();

    [Fact]
    public async Task Token_moves_to_the_end()
    {
        await CodeFixHarness.VerifyAsync(
            Provider,
            DiagnosticIds.MisplacedCancellationToken,
            before: """
            namespace Shop;

            [RpcService]
            public interface ISearch
            {
                Task<string[]> SearchAsync(CancellationToken cancellationToken, string query, int limit);
            }
            """,
            after: """
            namespace Shop;

            [RpcService]
            public interface ISearch
            {
                Task<string[]> SearchAsync(string query, int limit, CancellationToken cancellationToken);
            }
            """,
            expectedTitle: "Move 'cancellationToken' to the end of the parameter list");
    }

    [Fact]
    public async Task Token_moved_behind_optional_parameters_becomes_optional_and_the_layout_is_kept()
    {
        await CodeFixHarness.VerifyAsync(
            Provider,
            DiagnosticIds.MisplacedCancellationToken,
            before: """
            namespace Shop;

            [RpcService]
            public interface ISearch
            {
                Task<string[]> SearchAsync(
                    CancellationToken cancellationToken,
                    string query,
                    int limit = 10);
            }
            """,
            after: """
            namespace Shop;

            [RpcService]
            public interface ISearch
            {
                Task<string[]> SearchAsync(
                    string query,
                    int limit = 10,
                    CancellationToken cancellationToken = default);
            }
            """,
            expectedTitle: "Move 'cancellationToken' to the end of the parameter list");
    }
}
