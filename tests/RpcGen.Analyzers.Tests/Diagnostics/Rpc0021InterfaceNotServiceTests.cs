using Microsoft.CodeAnalysis;
using static RpcGen.Analyzers.Tests.AnalyzerHarness;

namespace RpcGen.Analyzers.Tests.Diagnostics;

public sealed class Rpc0021InterfaceNotServiceTests
{
    [Fact]
    public async Task An_interface_that_is_neither_a_service_nor_a_known_type_base_is_reported_where_it_is_used()
    {
        var diagnostics = await VerifyAsync(
            """
            namespace Shop;

            public interface IProgress
            {
                Task ReportAsync(int percent);
            }

            public sealed record Job(string Name, IProgress {|RPC0021:Progress|});

            [RpcService]
            public interface IJobs
            {
                Task RunAsync({|RPC0021:IProgress|} progress);
                Task QueueAsync(Job job);
                Task CompareAsync({|RPC0021:IComparable<int>|} comparer);
            }
            """);

        Assert.Equal(
            [
                "Job.Progress: interface 'IProgress' is not an [RpcService]; mark it [RpcService] to pass it by reference (a callback the peer calls), or use a DTO or a base with [RpcKnownType] subtypes",
                "IProgress: interface 'IProgress' is not an [RpcService]; mark it [RpcService] to pass it by reference (a callback the peer calls), or use a DTO or a base with [RpcKnownType] subtypes",
                "IComparable<int>: interface 'IComparable<int>' is not an [RpcService]; mark it [RpcService] to pass it by reference (a callback the peer calls), or use a DTO or a base with [RpcKnownType] subtypes",
            ],
            diagnostics.Select(Message));
        Assert.All(diagnostics, d => Assert.Equal(DiagnosticSeverity.Error, d.Severity));
    }
}
