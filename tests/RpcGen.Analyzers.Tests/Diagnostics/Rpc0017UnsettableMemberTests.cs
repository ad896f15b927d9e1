using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.CSharp;
using RpcGen.Generators;
using static RpcGen.Analyzers.Tests.AnalyzerHarness;

namespace RpcGen.Analyzers.Tests.Diagnostics;

/// <summary>
/// Every public member of a DTO that holds state is serialized or reported (RPC0017), never skipped; the
/// README's member table lists the same shapes with the same outcomes.
/// </summary>
public sealed class Rpc0017UnsettableMemberTests
{
    public const string Serialized = "serialized";
    public const string Reported = "reported";
    public const string NotSerialized = "not serialized";

    /// <summary>A member declaration of <c>Dto</c> (whose constructor takes <c>fromConstructor</c>) and what becomes of it.</summary>
    public static TheoryData<string, string> MemberShapes => new()
    {
        { "public int Value { get; set; }", Serialized },
        { "public int Value { get; init; }", Serialized },
        { "public required int Value { get; init; }", Serialized },
        { "public int Value;", Serialized },
        { "public int FromConstructor { get; }", Serialized },
        { "public int FromConstructor { get; private set; }", Serialized },
        { "public readonly int FromConstructor;", Serialized },
        { "public int Value { get; private set; }", Reported },
        { "public int Value { get; protected set; }", Reported },
        { "public int Value { get; internal set; }", Reported },
        { "public int Value { get; private init; }", Reported },
        { "public int Value { get; }", Reported },
        { "public int Value { get; } = 42;", Reported },
        { "public List<int> Value { get; } = new();", Reported },
        { "public readonly int Value;", Reported },
        { "private int _value; public int Value { get => _value; private set => _value = value; }", Reported },
        { "public int Value => FromConstructor * 2;", NotSerialized },
        { "public int Value { get { return FromConstructor * 2; } }", NotSerialized },
        { "[RpcIgnore] public int Value { get; private set; }", NotSerialized },
        { "[RpcIgnore] public int Value { get; set; }", NotSerialized },
        { "public static int Value { get; set; }", NotSerialized },
        { "public const int Value = 1;", NotSerialized },
        { "internal int Value { get; set; }", NotSerialized },
        { "protected int Value { get; set; }", NotSerialized },
        { "private int Value { get; set; }", NotSerialized },
    };

    [Theory]
    [MemberData(nameof(MemberShapes))]
    public async Task Member_shape_is_serialized_or_reported_never_skipped(string member, string expected)
    {
        var source = $$"""
            namespace Shop;

            public sealed class Dto
            {
                public Dto(int fromConstructor) => FromConstructor = fromConstructor;

                {{member}}

                {{(member.Contains("FromConstructor", StringComparison.Ordinal) && !member.Contains("=>", StringComparison.Ordinal) && !member.Contains("return", StringComparison.Ordinal) ? "" : "public int FromConstructor { get; }")}}
            }

            [RpcService]
            public interface IShop
            {
                Task PutAsync(Dto dto);
            }
            """;
        var compilation = Compile(source);
        Assert.Empty(compilation.GetDiagnostics(TestContext.Current.CancellationToken).Where(d => d.Severity == DiagnosticSeverity.Error).Select(d => d.ToString()));

        var reported = (await AnalyzeAsync(compilation)).Where(d => d.Id == DiagnosticIds.UnsettableMember).ToList();
        var run = CSharpGeneratorDriver.Create(new RpcGenerator()).RunGenerators(compilation, TestContext.Current.CancellationToken).GetRunResult();
        var formatters = string.Concat(run.GeneratedTrees.Where(t => t.FilePath.EndsWith(".Formatters.g.cs", StringComparison.Ordinal)).Select(t => t.ToString()));

        switch (expected)
        {
            case Reported:
                var diagnostic = Assert.Single(reported);
                Assert.Equal(DiagnosticSeverity.Error, diagnostic.Severity);
                Assert.StartsWith("Dto.Value: 'Dto.Value' ", Message(diagnostic), StringComparison.Ordinal);

                // Reported at the member, where the fix goes, not at the method that reaches it.
                Assert.Contains("Value", diagnostic.Location.SourceTree!.GetText(TestContext.Current.CancellationToken).ToString(diagnostic.Location.SourceSpan), StringComparison.Ordinal);

                // The generator never writes what it could not read back: the DTO's formatter fails the call instead.
                Assert.Contains("UnsupportedFormatter<global::Shop.Dto>", formatters, StringComparison.Ordinal);
                Assert.DoesNotContain("value.Value", formatters, StringComparison.Ordinal);
                break;
            case Serialized:
                Assert.Empty(reported);
                var name = member.Contains("FromConstructor", StringComparison.Ordinal) ? "FromConstructor" : "Value";
                Assert.Contains($"value.{name}", formatters, StringComparison.Ordinal);
                break;
            default:
                Assert.Empty(reported);
                Assert.NotEmpty(formatters);
                Assert.DoesNotContain("value.Value", formatters, StringComparison.Ordinal);
                break;
        }
    }

    [Fact]
    public async Task A_member_reached_from_several_methods_is_reported_once_at_its_declaration()
    {
        var diagnostics = await VerifyAsync(
            """
            namespace Shop;

            public sealed class Order
            {
                public int Id { get; set; }
                public decimal {|RPC0017:Total|} { get; private set; }
            }

            [RpcService]
            public interface IOrders
            {
                Task PlaceAsync(Order order);
                Task<Order> GetAsync(int id);
                Task<List<Order>> ListAsync();
            }
            """);

        Assert.Equal(
            [
                "Order.Total: 'Order.Total' has a private setter, so its value would never arrive; make it settable or init, take it in the constructor, or mark it [RpcIgnore]",
            ],
            diagnostics.Select(Message));
    }
}
