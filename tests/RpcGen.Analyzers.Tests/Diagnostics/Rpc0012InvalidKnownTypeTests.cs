using Microsoft.CodeAnalysis;
using static RpcGen.Analyzers.Tests.AnalyzerHarness;

namespace RpcGen.Analyzers.Tests.Diagnostics;

public sealed class Rpc0012InvalidKnownTypeTests
{
    [Fact]
    public async Task Unrelated_subtype_repeated_subtype_and_repeated_tag_are_reported_as_warnings()
    {
        var diagnostics = await VerifyAsync(
            """
            namespace Shop;

            [RpcKnownType(typeof(Circle), 1)]
            [RpcKnownType({|RPC0012:typeof(Circle)|}, 2)]
            [RpcKnownType(typeof(Square), {|RPC0012:3|})]
            [RpcKnownType(typeof(Triangle), {|RPC0012:3|})]
            [RpcKnownType({|RPC0012:typeof(Dog)|}, 4)]
            public abstract record Shape;

            public sealed record Circle(double Radius) : Shape;
            public sealed record Square(double Side) : Shape;
            public sealed record Triangle(double Base, double Height) : Shape;
            public sealed record Dog(string Name);

            [RpcKnownType({|RPC0012:typeof(Dog)|}, 1)]
            public interface IAnimal
            {
            }
            """);

        Assert.Equal(
            [
                "[RpcKnownType] on 'Shape': 'Circle' is listed more than once",
                "[RpcKnownType] on 'Shape': tag 3 of 'Square' is also the tag of 'Triangle'",
                "[RpcKnownType] on 'Shape': tag 3 of 'Triangle' is also the tag of 'Square'",
                "[RpcKnownType] on 'Shape': 'Dog' does not derive from 'Shape'",
                "[RpcKnownType] on 'IAnimal': 'Dog' does not implement 'IAnimal'",
            ],
            diagnostics.Select(Message));
        Assert.All(diagnostics, d => Assert.Equal(DiagnosticSeverity.Warning, d.Severity));
    }

    [Fact]
    public async Task Subtypes_that_derive_or_implement_with_distinct_tags_are_not_reported()
    {
        await VerifyCleanAsync(
            """
            namespace Shop;

            [RpcKnownType(typeof(Circle), 1)]
            [RpcKnownType(typeof(Square), 2)]
            public abstract record Shape;

            public sealed record Circle(double Radius) : Shape;
            public sealed record Square(double Side) : Shape;

            [RpcKnownType(typeof(Dog), 1)]
            [RpcKnownType(typeof(Puppy), 2)]
            public interface IAnimal
            {
            }

            public record Dog(string Name) : IAnimal;
            public sealed record Puppy(string Name, int Weeks) : Dog(Name);
            """);
    }
}
