using static RpcGen.Analyzers.Tests.AnalyzerHarness;

namespace RpcGen.Analyzers.Tests.Diagnostics;

public sealed class Rpc0002GenericServiceTests
{
    [Fact]
    public async Task Generic_service_and_service_nested_in_a_generic_type_are_reported()
    {
        var diagnostics = await VerifyAsync(
            """
            namespace Shop;

            [RpcService]
            public interface {|RPC0002:IRepository|}<TItem, TKey>
            {
                Task<int> CountAsync();
            }

            public class Outer<TScope>
            {
                [RpcService]
                public interface {|RPC0002:IInner|}
                {
                    Task PingAsync();
                }
            }
            """);

        Assert.Equal(
            [
                "Service 'IRepository' has type parameters (TItem, TKey); a service interface must not be generic or nested in a generic type",
                "Service 'IInner' has type parameters (TScope of Outer); a service interface must not be generic or nested in a generic type",
            ],
            diagnostics.Select(Message));
    }

    [Fact]
    public async Task Service_nested_in_a_non_generic_class_is_not_reported()
    {
        await VerifyCleanAsync(
            """
            namespace Shop;

            public static class Contracts
            {
                [RpcService]
                public interface IInner
                {
                    Task PingAsync();
                }
            }
            """);
    }
}
