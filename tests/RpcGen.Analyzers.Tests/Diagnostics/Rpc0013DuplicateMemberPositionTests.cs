using Microsoft.CodeAnalysis;
using static RpcGen.Analyzers.Tests.AnalyzerHarness;

namespace RpcGen.Analyzers.Tests.Diagnostics;

public sealed class Rpc0013DuplicateMemberPositionTests
{
    [Fact]
    public async Task Repeated_position_in_a_type_and_against_a_base_member_is_reported_as_a_warning()
    {
        var diagnostics = await VerifyAsync(
            """
            namespace Shop;

            public sealed class Line
            {
                [RpcMember({|RPC0013:0|})]
                public int Quantity { get; set; }

                [RpcMember({|RPC0013:0|})]
                public decimal Price { get; set; }
            }

            public class Entity
            {
                [RpcMember(0)]
                public Guid Id { get; set; }
            }

            public sealed class Product : Entity
            {
                [RpcMember({|RPC0013:0|})]
                public string Name { get; set; } = "";
            }
            """);

        Assert.Equal(
            [
                "Member 'Line.Quantity' has [RpcMember] position 0, the same as 'Line.Price'; positions must be unique within a type",
                "Member 'Line.Price' has [RpcMember] position 0, the same as 'Line.Quantity'; positions must be unique within a type",
                "Member 'Product.Name' has [RpcMember] position 0, the same as 'Entity.Id'; positions must be unique within a type",
            ],
            diagnostics.Select(Message));
        Assert.All(diagnostics, d => Assert.Equal(DiagnosticSeverity.Warning, d.Severity));
    }

    [Fact]
    public async Task Distinct_positions_across_a_hierarchy_are_not_reported()
    {
        await VerifyCleanAsync(
            """
            namespace Shop;

            public class Entity
            {
                [RpcMember(0)]
                public Guid Id { get; set; }
            }

            public sealed class Product : Entity
            {
                [RpcMember(1)]
                public string Name { get; set; } = "";

                [RpcMember(2)]
                public decimal Price { get; set; }
            }
            """);
    }
}
