using RpcGen.Analyzers.CodeFixes;

namespace RpcGen.Analyzers.Tests.CodeFixes;

public sealed class PinOrdinalsCodeFixTests
{
    private static readonly PinOrdinalsCodeFixProvider Provider = new();

    [Fact]
    public async Task Repeated_and_missing_ordinals_get_the_lowest_free_ones_and_a_free_pin_is_kept()
    {
        await CodeFixHarness.VerifyAsync(
            Provider,
            DiagnosticIds.DuplicateMethodId,
            before: """
            namespace Shop;

            [RpcService]
            public interface ICalculator
            {
                [RpcMethod(1)]
                Task<int> AddAsync(int a, int b);

                [RpcMethod(1)]
                Task<int> SubtractAsync(int a, int b);

                /// <summary>Multiplies.</summary>
                Task<int> MultiplyAsync(int a, int b);
            }
            """,
            after: """
            namespace Shop;

            [RpcService]
            public interface ICalculator
            {
                [RpcMethod(1)]
                Task<int> AddAsync(int a, int b);

                [RpcMethod(0)]
                Task<int> SubtractAsync(int a, int b);

                /// <summary>Multiplies.</summary>
                [RpcMethod(2)]
                Task<int> MultiplyAsync(int a, int b);
            }
            """,
            expectedTitle: "Pin an ordinal on every method of 'ICalculator'",
            firstOfSeveral: true);
    }

    [Fact]
    public async Task Fix_all_pins_each_interface_once()
    {
        await CodeFixHarness.VerifyFixAllAsync(
            Provider,
            DiagnosticIds.DuplicateMethodId,
            before: """
            namespace Shop;

            [RpcService]
            public interface ISearch
            {
                Task<string[]> SearchAsync(string query);
                Task<string[]> SearchAsync(string query, CancellationToken cancellationToken);
            }

            [RpcService]
            public interface ICalculator
            {
                [RpcMethod(0)]
                Task<int> AddAsync(int a, int b);

                [RpcMethod(0)]
                Task<int> SubtractAsync(int a, int b);
            }
            """,
            after: """
            namespace Shop;

            [RpcService]
            public interface ISearch
            {
                [RpcMethod(0)]
                Task<string[]> SearchAsync(string query);
                [RpcMethod(1)]
                Task<string[]> SearchAsync(string query, CancellationToken cancellationToken);
            }

            [RpcService]
            public interface ICalculator
            {
                [RpcMethod(0)]
                Task<int> AddAsync(int a, int b);

                [RpcMethod(1)]
                Task<int> SubtractAsync(int a, int b);
            }
            """,
            title: "Pin an ordinal on every method of 'ISearch'");
    }
}
