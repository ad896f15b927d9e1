using Microsoft.CodeAnalysis;
using static RpcGen.Analyzers.Tests.AnalyzerHarness;

namespace RpcGen.Analyzers.Tests.Diagnostics;

public sealed class Rpc0023NoUsableConstructorTests
{
    [Fact]
    public async Task A_DTO_whose_constructors_take_other_values_is_reported_once_at_its_use_and_usable_ones_are_not()
    {
        var diagnostics = await VerifyAsync(
            """
            namespace Shop;

            public sealed class Receipt
            {
                public Receipt(string number, int copies) => Id = number;

                public string Id { get; set; } = "";
            }

            public sealed class Ticket
            {
                public Ticket(string id) => Id = id;

                public string Id { get; set; }
            }

            public sealed record Line(string Sku, int Quantity);

            public sealed class Note
            {
                public string Text { get; set; } = "";
            }

            [RpcService]
            public interface ICheckout
            {
                {|RPC0023:Task<Receipt>|} PayAsync(Ticket ticket, Line line, Note note);
                {|RPC0023:Task<Receipt>|} RefundAsync(string id);
            }
            """);

        Assert.Equal(2, diagnostics.Length);
        Assert.All(diagnostics, d => Assert.Equal(DiagnosticSeverity.Error, d.Severity));
        Assert.Equal(
            "Receipt: DTO 'Receipt' has no usable constructor: no public constructor takes only its serialized members (matched by name, ignoring case, and type), and none is parameterless; add one whose parameters are named after its members",
            Message(diagnostics[0]));
    }
}
