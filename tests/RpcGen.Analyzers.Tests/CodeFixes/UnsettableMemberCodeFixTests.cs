using RpcGen.Analyzers.CodeFixes;

namespace RpcGen.Analyzers.Tests.CodeFixes;

public sealed class UnsettableMemberCodeFixTests
{
    private static readonly UnsettableMemberCodeFixProvider Provider = new();

    private static string Contract(string member) => $$"""
        namespace Shop;

        public sealed class Order
        {
            public int Id { get; set; }

            {{member}}
        }

        [RpcService]
        public interface IOrders
        {
            Task PlaceAsync(Order order);
        }
        """;

    [Fact]
    public async Task A_private_setter_becomes_init()
    {
        await CodeFixHarness.VerifyAsync(
            Provider,
            DiagnosticIds.UnsettableMember,
            before: Contract("public decimal Total { get; private set; }"),
            after: Contract("public decimal Total { get; init; }"),
            expectedTitle: "Make 'Total' init");
    }

    [Fact]
    public async Task A_get_only_auto_property_with_an_initializer_gains_init()
    {
        await CodeFixHarness.VerifyAsync(
            Provider,
            DiagnosticIds.UnsettableMember,
            before: Contract("public List<string> Notes { get; } = new();"),
            after: Contract("public List<string> Notes { get; init; } = new();"),
            expectedTitle: "Make 'Notes' init");
    }

    [Fact]
    public async Task A_member_can_be_left_out_with_RpcIgnore()
    {
        await CodeFixHarness.VerifyAsync(
            Provider,
            DiagnosticIds.UnsettableMember,
            before: Contract("public decimal Total { get; protected set; }"),
            after: Contract("""
                [RpcIgnore]
                    public decimal Total { get; protected set; }
                """),
            expectedTitle: "Add [RpcIgnore] to 'Total'");
    }

    [Fact]
    public async Task A_read_only_field_can_be_left_out_with_RpcIgnore()
    {
        await CodeFixHarness.VerifyAsync(
            Provider,
            DiagnosticIds.UnsettableMember,
            before: Contract("public readonly int Version = 2;"),
            after: Contract("""
                [RpcIgnore]
                    public readonly int Version = 2;
                """),
            expectedTitle: "Add [RpcIgnore] to 'Version'");
    }

    [Fact]
    public async Task Fix_All_makes_every_unsettable_property_init()
    {
        await CodeFixHarness.VerifyFixAllAsync(
            Provider,
            DiagnosticIds.UnsettableMember,
            before: Contract("public decimal Total { get; private set; }\n    public List<string> Notes { get; } = new();"),
            after: Contract("public decimal Total { get; init; }\n    public List<string> Notes { get; init; } = new();"),
            title: "Make 'Total' init");
    }
}
