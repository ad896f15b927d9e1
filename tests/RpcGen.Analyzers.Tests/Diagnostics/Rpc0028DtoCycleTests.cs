using Microsoft.CodeAnalysis;
using static RpcGen.Analyzers.Tests.AnalyzerHarness;

namespace RpcGen.Analyzers.Tests.Diagnostics;

public sealed class Rpc0028DtoCycleTests
{
    [Fact]
    public async Task A_tree_a_mutual_cycle_and_a_recursive_known_type_are_each_reported_once()
    {
        var diagnostics = await VerifyAsync(
            """
            namespace Shop;

            [RpcService]
            public interface IFolders
            {
                Task<Folder> RootAsync();
                Task<Folder?> FindAsync(string path);
                Task<Employee> ManagerAsync(Team team);
                Task<double> EvaluateAsync(Expr expr);
            }

            [RpcService]
            public interface ITeams { Task<Team> GetAsync(int id); }

            public sealed class Folder
            {
                public string Name { get; set; } = "";
                public List<Folder> {|RPC0028:Children|} { get; set; } = new();
            }

            public sealed record Employee(string Name, Team? Team);
            public sealed record Team(string Name, Employee[] {|RPC0028:Members|});

            [RpcKnownType(typeof(Literal), 1), RpcKnownType(typeof(Add), 2)]
            public abstract record {|RPC0028:Expr|};
            public sealed record Literal(double Value) : Expr;
            public sealed record Add(Expr Left, Expr Right) : Expr;
            """);

        Assert.Equal(
            [
                "DTO 'Folder' can hold itself (Folder.Children[]): only finite values travel, nested at most RpcSerializer.MaxDepth (64) levels (Cap'n Proto: CapnpReaderOptions.NestingLimit, 64)",
                "DTO 'Team' can hold itself (Team.Members[].Team): only finite values travel, nested at most RpcSerializer.MaxDepth (64) levels (Cap'n Proto: CapnpReaderOptions.NestingLimit, 64)",
                "DTO 'Expr' can hold itself (Expr(Add).Left): only finite values travel, nested at most RpcSerializer.MaxDepth (64) levels (Cap'n Proto: CapnpReaderOptions.NestingLimit, 64)",
            ],
            diagnostics.Select(Message));
        Assert.All(diagnostics, d => Assert.Equal(DiagnosticSeverity.Info, d.Severity));
    }

    [Fact]
    public async Task A_type_reached_twice_without_holding_itself_is_not_a_cycle()
    {
        await VerifyCleanAsync(
            """
            namespace Shop;

            [RpcService]
            public interface IOrders { Task<Order> GetAsync(int id); }

            public sealed record Address(string Street);
            public sealed record Customer(string Name, Address Home, Address Work);
            public sealed record Order(Customer Buyer, Customer? Payer, List<Address> Stops, Dictionary<string, Customer> Contacts);
            """);
    }
}
