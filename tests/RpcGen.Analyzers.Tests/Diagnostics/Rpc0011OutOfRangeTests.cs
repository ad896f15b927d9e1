using static RpcGen.Analyzers.Tests.AnalyzerHarness;

namespace RpcGen.Analyzers.Tests.Diagnostics;

public sealed class Rpc0011OutOfRangeTests
{
    [Fact]
    public async Task Zero_service_id_and_negative_ordinal_position_and_tag_are_reported_at_the_argument()
    {
        var diagnostics = await VerifyAsync(
            """
            namespace Shop;

            [RpcService({|RPC0011:0|})]
            public interface ICalculator
            {
                [RpcMethod({|RPC0011:-1|})]
                Task<int> AddAsync(int a, int b);
            }

            public sealed class Line
            {
                [RpcMember({|RPC0011:position: -2|})]
                public int Quantity { get; set; }
            }

            [RpcKnownType(typeof(Circle), {|RPC0011:-3|})]
            public abstract record Shape;

            public sealed record Circle(double Radius) : Shape;
            """);

        Assert.Equal(
            [
                "Service id 0 of 'ICalculator' is out of range: zero means 'derive the id from the name'; remove the argument or pin a non-zero id",
                "Ordinal -1 of 'ICalculator.AddAsync' is out of range: pinned ordinals go from 0 to 2147483647",
                "Position -2 of 'Line.Quantity' is out of range: member positions go from 0 to 2147483647",
                "Known-type tag -3 on 'Shape' is out of range: tags go from 0 to 2147483647",
            ],
            diagnostics.Select(Message));
    }

    [Fact]
    public async Task Smallest_valid_values_are_not_reported()
    {
        await VerifyCleanAsync(
            """
            namespace Shop;

            [RpcService(1)]
            public interface ICalculator
            {
                [RpcMethod(0)]
                Task<int> AddAsync(int a, int b);
            }

            public sealed class Line
            {
                [RpcMember(0)]
                public int Quantity { get; set; }
            }

            [RpcKnownType(typeof(Circle), 0)]
            public abstract record Shape;

            public sealed record Circle(double Radius) : Shape;
            """);
    }
}
