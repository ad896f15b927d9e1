using Microsoft.CodeAnalysis;
using static RpcGen.Analyzers.Tests.AnalyzerHarness;

namespace RpcGen.Analyzers.Tests.Diagnostics;

public sealed class Rpc0031CapnpUnionOrderTests
{
    private const string Shapes = """
        namespace Shop
        {
            [RpcKnownType(typeof(Circle), 1), RpcKnownType(typeof(Triangle), 3), RpcKnownType(typeof(Square), {|RPC0031:2|})]
            public abstract record Shape;
            public sealed record Circle(double Radius) : Shape;
            public sealed record Square(double Side) : Shape;
            public sealed record Triangle(double Base, double Height) : Shape;

            [RpcKnownType(typeof(Dot), 0), RpcKnownType(typeof(Line), 5)]
            public abstract record Mark;
            public sealed record Dot(int X) : Mark;
            public sealed record Line(int From, int To) : Mark;
        }
        """;

    [Fact]
    public async Task A_tag_lower_than_one_listed_before_it_is_reported_at_the_tag()
    {
        var diagnostic = Assert.Single(await VerifyAsync(CapabilityTransport + Shapes));
        Assert.Equal(DiagnosticSeverity.Warning, diagnostic.Severity);
        Assert.Equal(
            "[RpcKnownType] on 'Shape': 'Square' (tag 2) is listed after 'Triangle' (tag 3); the Cap'n Proto union orders its members by tag, so list them in tag order",
            Message(diagnostic));
    }

    [Fact]
    public async Task Without_the_capability_transport_nothing_is_reported()
    {
        await VerifyCleanAsync(Shapes.Replace("{|RPC0031:2|}", "2"));
    }
}
