using static RpcGen.Analyzers.Tests.AnalyzerHarness;

namespace RpcGen.Analyzers.Tests.Diagnostics;

public sealed class Rpc0003GenericMethodTests
{
    [Fact]
    public async Task Generic_method_is_reported_once_at_its_name()
    {
        var diagnostics = await VerifyAsync(
            """
            namespace Shop;

            [RpcService]
            public interface IStore
            {
                Task<T> {|RPC0003:GetAsync|}<T>(T key);
            }
            """);

        Assert.Equal("Method 'IStore.GetAsync' is generic; a service method must not have type parameters", Message(Assert.Single(diagnostics)));
    }

    [Fact]
    public async Task Method_taking_a_closed_generic_type_is_not_reported()
    {
        await VerifyCleanAsync(
            """
            namespace Shop;

            public sealed record Page<T>(List<T> Items, int Total);

            [RpcService]
            public interface IStore
            {
                Task<Page<string>> ListAsync(Page<int> previous);
            }
            """);
    }
}
