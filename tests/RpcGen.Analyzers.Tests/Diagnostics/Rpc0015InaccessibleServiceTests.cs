using static RpcGen.Analyzers.Tests.AnalyzerHarness;

namespace RpcGen.Analyzers.Tests.Diagnostics;

public sealed class Rpc0015InaccessibleServiceTests
{
    [Fact]
    public async Task Private_nested_service_and_service_inside_a_private_type_are_reported()
    {
        var diagnostics = await VerifyAsync(
            """
            namespace Shop;

            public class Host
            {
                [RpcService]
                private interface {|RPC0015:IHidden|}
                {
                    Task PingAsync();
                }

                private static class Internals
                {
                    [RpcService]
                    public interface {|RPC0015:IInner|}
                    {
                        Task PingAsync();
                    }
                }
            }
            """);

        Assert.Equal(
            [
                "Service 'IHidden' is not accessible to generated code; the interface and every type that contains it must be public or internal",
                "Service 'IInner' is not accessible to generated code; the interface and every type that contains it must be public or internal",
            ],
            diagnostics.Select(Message));
    }

    [Fact]
    public async Task Public_and_internal_services_are_not_reported()
    {
        await VerifyCleanAsync(
            """
            namespace Shop;

            [RpcService]
            internal interface IInternal
            {
                Task PingAsync();
            }

            internal static class Host
            {
                [RpcService]
                internal interface INested
                {
                    Task PingAsync();
                }
            }
            """);
    }
}
