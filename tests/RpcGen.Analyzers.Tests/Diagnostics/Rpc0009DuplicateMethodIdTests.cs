using System.Globalization;
using RpcGen.Generators.Shared;
using static RpcGen.Analyzers.Tests.AnalyzerHarness;

namespace RpcGen.Analyzers.Tests.Diagnostics;

public sealed class Rpc0009DuplicateMethodIdTests
{
    [Fact]
    public async Task Repeated_pinned_ordinal_is_reported_on_each_method_that_uses_it()
    {
        var diagnostics = await VerifyAsync(
            """
            namespace Shop;

            [RpcService]
            public interface ICalculator
            {
                [RpcMethod({|RPC0009:1|})]
                Task<int> AddAsync(int a, int b);

                [RpcMethod({|RPC0009:1|})]
                Task<int> SubtractAsync(int a, int b);

                [RpcMethod(2)]
                Task<int> MultiplyAsync(int a, int b);
            }
            """);

        Assert.Equal(
            [
                "Method 'ICalculator.AddAsync(int, int)' has ordinal 1, the same as 'ICalculator.SubtractAsync(int, int)' in service 'ICalculator'; method ids must be unique within a service",
                "Method 'ICalculator.SubtractAsync(int, int)' has ordinal 1, the same as 'ICalculator.AddAsync(int, int)' in service 'ICalculator'; method ids must be unique within a service",
            ],
            diagnostics.Select(Message));
    }

    [Fact]
    public async Task Overloads_that_differ_only_by_a_cancellation_token_have_the_same_derived_id()
    {
        var diagnostics = await VerifyAsync(
            """
            namespace Shop;

            [RpcService]
            public interface ISearch
            {
                Task<string[]> {|RPC0009:SearchAsync|}(string query);
                Task<string[]> {|RPC0009:SearchAsync|}(string query, CancellationToken cancellationToken);
            }
            """);

        // The derived id is FNV-1a 32 of "Name(T1,T2)" without the token, with the top bit set.
        var id = (RpcContractRules.Fnv1a32("SearchAsync(string)") | 0x80000000u).ToString("X8", CultureInfo.InvariantCulture);
        Assert.Equal(
            [
                $"Method 'ISearch.SearchAsync(string)' has derived id 0x{id}, the same as 'ISearch.SearchAsync(string, CancellationToken)' in service 'ISearch'; the two differ only by a CancellationToken, which is not part of a method's id; keep one overload, with 'CancellationToken cancellationToken = default' last",
                $"Method 'ISearch.SearchAsync(string, CancellationToken)' has derived id 0x{id}, the same as 'ISearch.SearchAsync(string)' in service 'ISearch'; the two differ only by a CancellationToken, which is not part of a method's id; keep one overload, with 'CancellationToken cancellationToken = default' last",
            ],
            diagnostics.Select(Message));
    }

    [Fact]
    public async Task Ordinal_clashing_with_a_base_service_method_is_reported_in_the_derived_service()
    {
        var diagnostics = await VerifyAsync(
            """
            namespace Shop;

            [RpcService]
            public interface IHealth
            {
                [RpcMethod(1)]
                Task<bool> PingAsync();
            }

            [RpcService]
            public interface {|RPC0009:ICalculator|} : IHealth
            {
                [RpcMethod({|RPC0009:1|})]
                Task<int> AddAsync(int a, int b);
            }
            """);

        Assert.Equal(
            [
                "Method 'IHealth.PingAsync()' has ordinal 1, the same as 'ICalculator.AddAsync(int, int)' in service 'ICalculator'; method ids must be unique within a service",
                "Method 'ICalculator.AddAsync(int, int)' has ordinal 1, the same as 'IHealth.PingAsync()' in service 'ICalculator'; method ids must be unique within a service",
            ],
            diagnostics.Select(Message));
    }

    [Fact]
    public async Task Distinct_ordinals_and_overloads_with_different_parameters_are_not_reported()
    {
        await VerifyCleanAsync(
            """
            namespace Shop;

            [RpcService]
            public interface ICalculator
            {
                [RpcMethod(1)]
                Task<int> AddAsync(int a, int b);

                [RpcMethod(2)]
                Task<int> SubtractAsync(int a, int b);

                Task<long> AddAsync(long a, long b);
                Task<long> AddAsync(long a, long b, long c, CancellationToken cancellationToken);
            }
            """);
    }
}
