using Microsoft.CodeAnalysis;
using static RpcGen.Analyzers.Tests.AnalyzerHarness;
using static RpcGen.Analyzers.Tests.Diagnostics.Rpc0026WireBreakTests;

namespace RpcGen.Analyzers.Tests.Diagnostics;

/// <summary>RPC0027 against version 1 of <see cref="Rpc0026WireBreakTests"/>'s contract, shipped.</summary>
public sealed class Rpc0027NotInBaselineTests
{
    [Fact]
    public async Task Adding_a_method_or_appending_a_member_is_not_a_break_only_not_in_the_baseline_yet()
    {
        var diagnostics = await VerifyAsync(
            """
            namespace Shop;

            [RpcService]
            public interface {|RPC0027:IInventory|}
            {
                [RpcMethod(0)] Task<Item?> GetAsync(int id, CancellationToken cancellationToken = default);
                Task<List<Item>> FindAsync(string text);
                Task PutAsync(Item item);
                Task<int> CountAsync();
            }

            public sealed class Item
            {
                public string Name { get; set; } = "";
                public decimal Price { get; set; }
                [RpcMember(5)] public int Stock { get; set; }
                public string? Note { get; set; }
            }
            """,
            [],
            await ShipAsync(Version1));

        var diagnostic = Assert.Single(diagnostics);
        Assert.Equal(DiagnosticSeverity.Info, diagnostic.Severity);
        Assert.Equal("Service 'Shop.IInventory' has 2 wire contract entries not in RpcContracts.Shipped.txt; add them when this version ships", Message(diagnostic));
        Assert.Equal(
            "method Shop.IInventory.CountAsync 0x" + (Generators.Shared.RpcContractRules.Fnv1a32("CountAsync()") | 0x80000000u).ToString("X8") + " () -> int\nmember Shop.Item.Note 8 string",
            diagnostic.Properties[DiagnosticProperties.BaselineLines]);
    }
}
