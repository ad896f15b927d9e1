using static RpcGen.Analyzers.Tests.AnalyzerHarness;

namespace RpcGen.Analyzers.Tests.Diagnostics;

public sealed class Rpc0014NotAnInstanceMethodTests
{
    [Fact]
    public async Task Properties_events_indexers_and_static_members_are_reported()
    {
        var diagnostics = await VerifyAsync(
            """
            namespace Shop;

            [RpcService]
            public interface IInventory
            {
                int {|RPC0014:Count|} { get; }
                event EventHandler? {|RPC0014:Changed|};
                int {|RPC0014:this|}[int index] { get; }
                static int {|RPC0014:Created|};
                static int {|RPC0014:Twice|}(int value) => value * 2;

                Task<int> CountAsync();
            }
            """);

        Assert.Equal(
            [
                "'IInventory.Count' is a property; only instance methods can be part of a service",
                "'IInventory.Changed' is an event; only instance methods can be part of a service",
                "'IInventory.this[]' is an indexer; only instance methods can be part of a service",
                "'IInventory.Created' is a static field; only instance methods can be part of a service",
                "'IInventory.Twice' is a static method; only instance methods can be part of a service",
            ],
            diagnostics.Select(Message));
    }

    [Fact]
    public async Task Instance_methods_and_nested_types_are_not_reported()
    {
        await VerifyCleanAsync(
            """
            namespace Shop;

            [RpcService]
            public interface IInventory
            {
                Task<int> CountAsync();
                Task<Item> GetAsync(int id);

                public sealed record Item(int Id, string Name);
            }
            """);
    }
}
