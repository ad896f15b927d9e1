using Microsoft.CodeAnalysis;
using static RpcGen.Analyzers.Tests.AnalyzerHarness;

namespace RpcGen.Analyzers.Tests.Diagnostics;

public sealed class Rpc0019BlockingCallTests
{
    [Fact]
    public async Task Result_Wait_and_GetResult_on_a_remote_call_are_reported_and_other_tasks_are_not()
    {
        var diagnostics = await VerifyAsync(
            """
            namespace Shop;

            [RpcService]
            public interface ICalculator
            {
                Task<int> AddAsync(int a, int b);
                ValueTask<int> NegateAsync(int a);
                Task ResetAsync();
            }

            public sealed class Client
            {
                public int Use(ICalculator calculator)
                {
                    var sum = {|RPC0019:calculator.AddAsync(1, 2).Result|};
                    {|RPC0019:calculator.ResetAsync().Wait()|};
                    var negated = {|RPC0019:calculator.NegateAsync(sum).GetAwaiter().GetResult()|};
                    var local = Task.FromResult(3).Result;
                    return sum + negated + local;
                }
            }
            """);

        Assert.Equal(
            [
                "'.Result' blocks a thread on the remote call 'ICalculator.AddAsync'; await it instead",
                "'.Wait()' blocks a thread on the remote call 'ICalculator.ResetAsync'; await it instead",
                "'.GetAwaiter().GetResult()' blocks a thread on the remote call 'ICalculator.NegateAsync'; await it instead",
            ],
            diagnostics.Select(Message));
        Assert.All(diagnostics, d => Assert.Equal(DiagnosticSeverity.Warning, d.Severity));
    }
}
