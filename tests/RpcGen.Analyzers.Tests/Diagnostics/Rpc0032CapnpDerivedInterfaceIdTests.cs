using Microsoft.CodeAnalysis;
using RpcGen.Generators.Shared;
using static RpcGen.Analyzers.Tests.AnalyzerHarness;

namespace RpcGen.Analyzers.Tests.Diagnostics;

public sealed class Rpc0032CapnpDerivedInterfaceIdTests
{
    [Fact]
    public async Task A_service_that_pins_ordinals_but_not_its_id_is_reported_with_the_derived_id()
    {
        var diagnostic = Assert.Single(await VerifyAsync(CapabilityTransport + """
            namespace Shop
            {
                [RpcService]
                public interface {|RPC0032:ICalculator|}
                {
                    [RpcMethod(0)] Task<int> AddAsync(int a, int b);
                }

                [RpcService(0xE1B2000000000002)]
                public interface IPinned { [RpcMethod(0)] Task<long> NowAsync(); }

                [RpcService]
                public interface IDerived { Task<long> NowAsync(); }
            }
            """));

        Assert.Equal(DiagnosticSeverity.Info, diagnostic.Severity);
        var derived = RpcContractRules.Fnv1a64("Shop.ICalculator") | (1ul << 63);
        Assert.Equal(
            $"Service 'ICalculator' pins Cap'n Proto ordinals but not its id: 0x{derived:x16} is derived from its name; existing Cap'n Proto peers will not recognize it",
            Message(diagnostic));
    }
}
