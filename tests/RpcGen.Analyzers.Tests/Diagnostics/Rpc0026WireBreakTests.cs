using System.Collections.Immutable;
using Microsoft.CodeAnalysis;
using static RpcGen.Analyzers.Tests.AnalyzerHarness;

namespace RpcGen.Analyzers.Tests.Diagnostics;

/// <summary>
/// RPC0026 and RPC0027: version 1 of a contract is shipped (its baseline written from RPC0027's lines, as the
/// code fix writes them), then version 2 is checked against it.
/// </summary>
public sealed class Rpc0026WireBreakTests
{
    internal const string Version1 = """
        namespace Shop;

        [RpcService]
        public interface IInventory
        {
            [RpcMethod(0)] Task<Item?> GetAsync(int id, CancellationToken cancellationToken = default);
            Task<List<Item>> FindAsync(string text);
            Task PutAsync(Item item);
        }

        public sealed class Item
        {
            public string Name { get; set; } = "";
            public decimal Price { get; set; }
            [RpcMember(5)] public int Stock { get; set; }
        }
        """;

    [Fact]
    public async Task The_shipped_version_itself_is_clean()
    {
        await VerifyAsync(Version1, [], await ShipAsync(Version1));
    }

    [Fact]
    public async Task Renaming_a_pinned_method_is_not_a_break_only_a_new_entry()
    {
        var diagnostics = await VerifyVersion2Async(("public interface IInventory", "public interface {|RPC0027:IInventory|}"), ("Task<Item?> GetAsync(", "Task<Item?> FetchAsync("));

        Assert.Equal(
            "Service 'Shop.IInventory' has 1 wire contract entry not in RpcContracts.Shipped.txt; add it when this version ships",
            Message(Assert.Single(diagnostics)));
    }

    [Fact]
    public async Task Removing_a_method_is_a_break_at_the_service()
    {
        var diagnostics = await VerifyVersion2Async(("public interface IInventory", "public interface {|RPC0026:IInventory|}"), ("    Task<List<Item>> FindAsync(string text);\n", ""));

        Assert.Equal(
            "Service 'Shop.IInventory' breaks the shipped wire contract (RpcContracts.Shipped.txt line 3): method 'FindAsync' is gone; callers built against the shipped contract would get Unimplemented",
            Message(Assert.Single(diagnostics)));
    }

    [Fact]
    public async Task Changing_a_pinned_ordinal_a_parameter_type_or_a_result_type_is_a_break_at_the_method()
    {
        var diagnostics = await VerifyVersion2Async(
                ("[RpcMethod(0)] Task<Item?> GetAsync", "[RpcMethod(1)] Task<Item?> {|RPC0026:GetAsync|}"),
                ("FindAsync(string text)", "{|RPC0026:FindAsync|}(string text, int limit)"),
                ("Task PutAsync", "Task<bool> {|RPC0026:PutAsync|}"));

        var messages = diagnostics.Select(Message).ToList();
        Assert.Equal("Method 'Shop.IInventory.GetAsync' breaks the shipped wire contract (RpcContracts.Shipped.txt line 2): its pinned ordinal was @0 and is now @1", messages[0]);
        Assert.StartsWith("Method 'Shop.IInventory.FindAsync' breaks the shipped wire contract (RpcContracts.Shipped.txt line 3): its id was 0x", messages[1]);
        Assert.EndsWith("; its parameters were (string) and are now (string,int)", messages[1]);
        Assert.Equal("Method 'Shop.IInventory.PutAsync' breaks the shipped wire contract (RpcContracts.Shipped.txt line 4): its result was void and is now bool", messages[2]);
    }

    [Fact]
    public async Task Changing_a_member_type_reordering_unpinned_members_or_removing_one_is_a_break()
    {
        var diagnostics = await VerifyAsync(
            """
            namespace Shop;

            [RpcService]
            public interface IInventory
            {
                [RpcMethod(0)] Task<Item?> GetAsync(int id, CancellationToken cancellationToken = default);
                Task<List<Item>> FindAsync(string text);
                Task PutAsync(Item item);
            }

            public sealed class Item
            {
                public double {|RPC0026:Price|} { get; set; }
                public string {|RPC0026:Name|} { get; set; } = "";
                [RpcMember(5)] public long {|RPC0026:Stock|} { get; set; }
            }

            [RpcService]
            public interface {|RPC0027:IOrders|} { Task PlaceAsync(Order order); }

            public sealed record {|RPC0026:Order|}(int Id);
            """,
            [],
            await ShipAsync(Version1 + "\n[RpcService] public interface IOrders { Task PlaceAsync(Order order); }\npublic sealed record Order(int Id, string Customer);", leaveOut: "Shop.IOrders"));

        Assert.Equal(
            [
                "Member 'Shop.Item.Price' breaks the shipped wire contract (RpcContracts.Shipped.txt line 7): its position was 7 and is now 6 (members were reordered, or one before it removed); its type was decimal and is now double",
                "Member 'Shop.Item.Name' breaks the shipped wire contract (RpcContracts.Shipped.txt line 6): its position was 6 and is now 7 (members were reordered, or one before it removed)",
                "Member 'Shop.Item.Stock' breaks the shipped wire contract (RpcContracts.Shipped.txt line 5): its type was int and is now long",
                "Service 'Shop.IOrders' has 2 wire contract entries not in RpcContracts.Shipped.txt; add them when this version ships",
                "DTO 'Shop.Order' breaks the shipped wire contract (RpcContracts.Shipped.txt line 9): member 'Customer' is gone; peers on the shipped contract would read the members after it from the wrong positions",
            ],
            diagnostics.Select(Message));
    }

    [Fact]
    public async Task Reordering_pinned_members_or_the_file_s_lines_is_fine_and_unreadable_lines_are_skipped()
    {
        var baseline = """
            # shipped 1.0
            service Shop.ICatalog 0x0000000000000007

            method Shop.ICatalog.ListAsync @0 () -> Shop.Page
            member Shop.Page.Total @1 int
            member Shop.Page.Names @0 string[]
            method
            member Shop.Page.Broken
            garbage line with words
            """ + "\nmember Shop.Page." + new string('x', 5000) + " 0 int\n";
        await VerifyAsync(
            """
            namespace Shop;

            [RpcService(7)]
            public interface ICatalog
            {
                [RpcMethod(0)] Task<Page> ListAsync();
            }

            public sealed class Page
            {
                [RpcMember(1)] public int Total { get; set; }
                [RpcMember(0)] public string[] Names { get; set; } = [];
            }
            """,
            [],
            [new InMemoryAdditionalText("/project/RpcContracts.Shipped.txt", baseline)]);
    }

    [Fact]
    public async Task A_changed_service_id_is_a_break_and_a_file_of_another_name_is_not_a_baseline()
    {
        var baseline = "service Shop.ICatalog 0x0000000000000007\nmethod Shop.ICatalog.ListAsync @0 () -> void\n";
        var source = """
            namespace Shop;

            [RpcService(8)]
            public interface {|RPC0026:ICatalog|}
            {
                [RpcMethod(0)] Task ListAsync();
            }
            """;
        var diagnostics = await VerifyAsync(source, [], [new InMemoryAdditionalText("/project/RpcContracts.Shipped.txt", baseline)]);
        Assert.Equal(
            "Service 'Shop.ICatalog' breaks the shipped wire contract (RpcContracts.Shipped.txt line 1): its id was 0x0000000000000007 and is now 0x0000000000000008; peers would not find it",
            Message(Assert.Single(diagnostics)));

        await VerifyAsync(source.Replace("{|RPC0026:ICatalog|}", "ICatalog"), [], [new InMemoryAdditionalText("/project/RpcContracts.Unshipped.txt", baseline)]);
    }

    /// <summary>Checks version 2 (version 1 with each (old, new) text replaced) against version 1 shipped.</summary>
    private static async Task<ImmutableArray<Diagnostic>> VerifyVersion2Async(params (string Old, string New)[] edits) =>
        await VerifyAsync(Version2(edits), [], await ShipAsync(Version1));

    /// <summary>Version 1 with each (old, new) text replaced.</summary>
    private static string Version2(params (string Old, string New)[] edits) =>
        edits.Aggregate(Version1, (source, edit) => source.Contains(edit.Old, StringComparison.Ordinal) ? source.Replace(edit.Old, edit.New, StringComparison.Ordinal) : throw new ArgumentException(edit.Old));

    /// <summary>
    /// The baseline of <paramref name="source"/>: every line RPC0027 offers, in order, as the code fix appends
    /// them to an empty file, minus the service and method lines of <paramref name="leaveOut"/>.
    /// </summary>
    internal static async Task<ImmutableArray<AdditionalText>> ShipAsync(string source, string? leaveOut = null)
    {
        var empty = ImmutableArray.Create<AdditionalText>(new InMemoryAdditionalText("/project/RpcContracts.Shipped.txt", ""));
        var diagnostics = await AnalyzeAsync(Compile(source), empty);
        var lines = diagnostics.Where(d => d.Id == DiagnosticIds.NotInBaseline)
            .SelectMany(d => d.Properties[DiagnosticProperties.BaselineLines]!.Split('\n'))
            .Distinct()
            .Where(line => leaveOut is null || !(line.StartsWith("service " + leaveOut + " ", StringComparison.Ordinal) || line.StartsWith("method " + leaveOut + ".", StringComparison.Ordinal)));
        return [new InMemoryAdditionalText("/project/RpcContracts.Shipped.txt", string.Join("\n", lines) + "\n")];
    }
}
