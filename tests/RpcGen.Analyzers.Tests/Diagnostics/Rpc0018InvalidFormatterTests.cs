using Microsoft.CodeAnalysis;
using static RpcGen.Analyzers.Tests.AnalyzerHarness;

namespace RpcGen.Analyzers.Tests.Diagnostics;

/// <summary>[RpcUseFormatter] takes a type or member over; one naming a formatter generated code cannot use is RPC0018.</summary>
public sealed class Rpc0018InvalidFormatterTests
{
    // The analyzers know IRpcFormatter<T> by name; these tests compile without the runtime.
    private const string Formatters = """
        namespace RpcGen.Serialization { public interface IRpcFormatter<T> { } }

        namespace Shop
        {
            public sealed class BuilderFormatter : RpcGen.Serialization.IRpcFormatter<System.Text.StringBuilder> { }
            public sealed class ShoutFormatter : RpcGen.Serialization.IRpcFormatter<string> { }
            public sealed class PointFormatter : RpcGen.Serialization.IRpcFormatter<Point> { }
            public sealed class NeedsArgument : RpcGen.Serialization.IRpcFormatter<string> { public NeedsArgument(int size) { } }
            public abstract class AbstractFormatter : RpcGen.Serialization.IRpcFormatter<object> { }

            [RpcUseFormatter(typeof(PointFormatter))]
            public sealed class Point { private Point() { } public static Point Origin { get; } = new(); }
        }
        """;

    [Fact]
    public async Task Formatters_named_on_the_assembly_the_type_or_the_member_take_unsupported_types_over()
    {
        await VerifyCleanAsync("[assembly: RpcGen.RpcUseFormatter(typeof(Shop.BuilderFormatter))]\n" + Formatters + """

            namespace Shop
            {
                public sealed class Label
                {
                    [RpcUseFormatter(typeof(ShoutFormatter))]
                    public string Text { get; set; } = "";

                    public System.Text.StringBuilder? Draft { get; set; }

                    public Point? Where { get; set; }
                }

                [RpcService]
                public interface ILabels
                {
                    Task<Label> EchoAsync(Label label, System.Text.StringBuilder builder, Point point);
                }
            }
            """);
    }

    [Fact]
    public async Task A_formatter_for_another_type_or_without_a_parameterless_constructor_is_reported_at_the_member()
    {
        var diagnostics = await VerifyAsync(Formatters + """

            namespace Shop
            {
                public sealed class Label
                {
                    [RpcUseFormatter(typeof(ShoutFormatter))]
                    public int {|RPC0018:Size|} { get; set; }

                    [RpcUseFormatter(typeof(NeedsArgument))]
                    public string {|RPC0018:Text|} { get; set; } = "";

                    [RpcUseFormatter(typeof(AbstractFormatter))]
                    public object? {|RPC0018:Tag|} { get; set; }
                }

                [RpcService]
                public interface ILabels
                {
                    Task PutAsync(Label label);
                }
            }
            """);

        Assert.Equal(
            [
                "Label.Size: formatter 'Shop.ShoutFormatter' does not implement IRpcFormatter<int>",
                "Label.Text: formatter 'Shop.NeedsArgument' must be a concrete class with a public or internal parameterless constructor",
                "Label.Tag: formatter 'Shop.AbstractFormatter' must be a concrete class with a public or internal parameterless constructor",
            ],
            diagnostics.Select(Message));
        Assert.All(diagnostics, d => Assert.Equal(DiagnosticSeverity.Error, d.Severity));
    }
}
