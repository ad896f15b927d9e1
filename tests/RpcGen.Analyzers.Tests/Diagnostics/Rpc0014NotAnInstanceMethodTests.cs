using static RpcGen.Analyzers.Tests.AnalyzerHarness;

namespace RpcGen.Analyzers.Tests.Diagnostics;

public sealed class Rpc0014NotAnInstanceMethodTests
{
    [Fact]
    public async Task Abstract_properties_events_indexers_and_static_abstract_members_are_reported()
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
                static abstract int {|RPC0014:Limit|} { get; }
                static abstract IInventory {|RPC0014:Create|}();
                static virtual int {|RPC0014:Twice|}(int value) => value * 2;

                Task<int> CountAsync();
            }
            """);

        Assert.Equal(
            [
                "'IInventory.Count' is a property; only instance methods can be part of a service",
                "'IInventory.Changed' is an event; only instance methods can be part of a service",
                "'IInventory.this[]' is an indexer; only instance methods can be part of a service",
                "'IInventory.Limit' is a static abstract property; only instance methods can be part of a service",
                "'IInventory.Create' is a static abstract method; only instance methods can be part of a service",
                "'IInventory.Twice' is a static virtual method; only instance methods can be part of a service",
            ],
            diagnostics.Select(Message));
    }

    [Fact]
    public async Task Instance_methods_default_implementations_static_helpers_and_nested_types_are_not_reported()
    {
        // The proxy inherits default-implemented members and static helpers; they never go on the wire.
        await VerifyCleanAsync(
            """
            namespace Shop;

            [RpcService]
            public interface IInventory
            {
                static int Created;

                Task<int> CountAsync();
                Task<Item> GetAsync(int id);

                int Capacity => 100;
                static int Twice(int value) => value * 2;

                public sealed record Item(int Id, string Name);
            }
            """);
    }
}
