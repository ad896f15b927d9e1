using static RpcGen.Analyzers.Tests.AnalyzerHarness;

namespace RpcGen.Analyzers.Tests.Diagnostics;

public sealed class Rpc0001ServiceNotInterfaceTests
{
    [Fact]
    public async Task RpcService_on_a_class_record_struct_enum_or_delegate_is_reported_even_though_the_compiler_reports_CS0592()
    {
        var diagnostics = await VerifyAsync(
            """
            namespace Shop;

            [RpcService]
            public class {|RPC0001:Calculator|} { }

            [RpcService]
            public record {|RPC0001:Quote|}(int Price);

            [RpcService]
            public record struct {|RPC0001:Range|}(int From, int To);

            [RpcService]
            public struct {|RPC0001:Point|} { }

            [RpcService]
            public enum {|RPC0001:Color|} { Red }

            [RpcService]
            public delegate void {|RPC0001:Callback|}();
            """,
            "CS0592");

        Assert.Equal(
            [
                "'Calculator' is a class; [RpcService] can only be applied to an interface",
                "'Quote' is a record; [RpcService] can only be applied to an interface",
                "'Range' is a record struct; [RpcService] can only be applied to an interface",
                "'Point' is a struct; [RpcService] can only be applied to an interface",
                "'Color' is an enum; [RpcService] can only be applied to an interface",
                "'Callback' is a delegate; [RpcService] can only be applied to an interface",
            ],
            diagnostics.Select(Message));
    }

    [Fact]
    public async Task RpcService_on_an_interface_is_not_reported()
    {
        await VerifyCleanAsync(
            """
            namespace Shop;

            [RpcService]
            public interface ICalculator
            {
                Task<int> AddAsync(int a, int b);
            }
            """);
    }
}
