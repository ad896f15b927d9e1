using RpcGen.Analyzers.CodeFixes;

namespace RpcGen.Analyzers.Tests.CodeFixes;

public sealed class RemoveCancellationTokenCodeFixTests
{
    private static readonly RemoveCancellationTokenCodeFixProvider Provider = new();

    [Fact]
    public async Task A_one_way_methods_token_is_removed()
    {
        await CodeFixHarness.VerifyAsync(
            Provider,
            DiagnosticIds.OneWayCancellation,
            before: """
            namespace Shop;

            [RpcService]
            public interface INotifier
            {
                [OneWay]
                ValueTask NotifyAsync(string message, CancellationToken cancellationToken = default);
            }
            """,
            after: """
            namespace Shop;

            [RpcService]
            public interface INotifier
            {
                [OneWay]
                ValueTask NotifyAsync(string message);
            }
            """,
            expectedTitle: "Remove the CancellationToken 'cancellationToken'");
    }

    [Fact]
    public async Task A_second_token_is_removed()
    {
        await CodeFixHarness.VerifyAsync(
            Provider,
            DiagnosticIds.SeveralCancellationTokens,
            before: """
            namespace Shop;

            [RpcService]
            public interface ISearch
            {
                Task<string[]> SearchAsync(string query, CancellationToken cancellationToken, CancellationToken timeout);
            }
            """,
            after: """
            namespace Shop;

            [RpcService]
            public interface ISearch
            {
                Task<string[]> SearchAsync(string query, CancellationToken cancellationToken);
            }
            """,
            expectedTitle: "Remove the CancellationToken 'timeout'");
    }

    [Fact]
    public async Task Fix_all_removes_every_one_way_token_in_the_document()
    {
        await CodeFixHarness.VerifyFixAllAsync(
            Provider,
            DiagnosticIds.OneWayCancellation,
            before: """
            namespace Shop;

            [RpcService]
            public interface INotifier
            {
                [OneWay]
                ValueTask NotifyAsync(string message, CancellationToken cancellationToken);

                [OneWay]
                void Touch(CancellationToken cancellationToken);
            }
            """,
            after: """
            namespace Shop;

            [RpcService]
            public interface INotifier
            {
                [OneWay]
                ValueTask NotifyAsync(string message);

                [OneWay]
                void Touch();
            }
            """,
            title: "Remove the CancellationToken 'cancellationToken'");
    }
}
