using static RpcGen.Analyzers.Tests.AnalyzerHarness;

namespace RpcGen.Analyzers.Tests.Diagnostics;

public sealed class Rpc0005UnsupportedReturnTypeTests
{
    [Fact]
    public async Task Synchronous_and_void_returns_without_OneWay_are_reported_at_the_return_type()
    {
        var diagnostics = await VerifyAsync(
            """
            namespace Shop;

            [RpcService]
            public interface ICalculator
            {
                {|RPC0005:int|} Add(int a, int b);
                {|RPC0005:void|} Reset();
                {|RPC0005:IEnumerable<int>|} Count();
            }
            """);

        Assert.Equal(
            [
                "Method 'ICalculator.Add' returns 'int'; a service method must return Task, Task<T>, ValueTask, ValueTask<T>, IAsyncEnumerable<T> or an [RpcService] interface (void only with [OneWay])",
                "Method 'ICalculator.Reset' returns 'void'; a service method must return Task, Task<T>, ValueTask, ValueTask<T>, IAsyncEnumerable<T> or an [RpcService] interface (void only with [OneWay])",
                "Method 'ICalculator.Count' returns 'IEnumerable<int>'; a service method must return Task, Task<T>, ValueTask, ValueTask<T>, IAsyncEnumerable<T> or an [RpcService] interface (void only with [OneWay])",
            ],
            diagnostics.Select(Message));
    }

    [Fact]
    public async Task Methods_inherited_from_a_base_interface_that_is_not_a_service_are_checked_too()
    {
        var diagnostics = await VerifyAsync(
            """
            namespace Shop;

            public interface IHealth
            {
                {|RPC0005:bool|} IsAlive();
            }

            [RpcService]
            public interface ICalculator : IHealth
            {
                Task<int> AddAsync(int a, int b);
            }
            """);

        Assert.Equal(
            "Method 'IHealth.IsAlive' returns 'bool'; a service method must return Task, Task<T>, ValueTask, ValueTask<T>, IAsyncEnumerable<T> or an [RpcService] interface (void only with [OneWay])",
            Message(Assert.Single(diagnostics)));
    }

    [Fact]
    public async Task Streamed_results_are_not_reported()
    {
        await VerifyCleanAsync(
            """
            using System.IO;

            namespace Shop;

            [RpcService]
            public interface IFeed
            {
                IAsyncEnumerable<int> CountAsync(int from, int to, CancellationToken cancellationToken = default);
                Task<Stream> DownloadAsync(string name);
                ValueTask<Stream> ExportAsync();
            }
            """);
    }

    [Fact]
    public async Task Task_shapes_one_way_void_and_default_implemented_methods_are_not_reported()
    {
        await VerifyCleanAsync(
            """
            namespace Shop;

            [RpcService]
            public interface ICalculator
            {
                Task ResetAsync();
                Task<int> AddAsync(int a, int b);
                ValueTask ClearAsync();
                ValueTask<long> MultiplyAsync(long a, long b);

                [OneWay]
                void Log(string message);

                // Default-implemented: the proxy inherits it; it is not a remote call.
                int Twice(int value) => value * 2;
            }
            """);
    }
}
