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

    [Fact]
    public async Task An_unpinned_method_among_pinned_ones_is_pinned_at_the_Cap_n_Proto_ordinal_it_already_has()
    {
        await CodeFixHarness.VerifyAsync(
            Provider,
            DiagnosticIds.CapnpUnpinnedAmongPinned,
            before: AnalyzerHarness.CapabilityTransport + """
            namespace Shop
            {
                [RpcService(0xE1B2000000000001)]
                public interface ICalculator
                {
                    Task<int> NegateAsync(int a);

                    [RpcMethod(0)]
                    Task<int> AddAsync(int a, int b);
                }
            }
            """,
            after: AnalyzerHarness.CapabilityTransport + """
            namespace Shop
            {
                [RpcService(0xE1B2000000000001)]
                public interface ICalculator
                {
                    [RpcMethod(1)]
                    Task<int> NegateAsync(int a);

                    [RpcMethod(0)]
                    Task<int> AddAsync(int a, int b);
                }
            }
            """,
            expectedTitle: "Pin an ordinal on every method of 'ICalculator'");
    }
}
