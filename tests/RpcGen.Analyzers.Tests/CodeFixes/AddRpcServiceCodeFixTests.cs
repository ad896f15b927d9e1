using RpcGen.Analyzers.CodeFixes;

namespace RpcGen.Analyzers.Tests.CodeFixes;

public sealed class AddRpcServiceCodeFixTests
{
    private static readonly AddRpcServiceCodeFixProvider Provider = new();

    private static string Contract(string callbackAttribute) => $$"""
        namespace Shop;

        /// <summary>Told how far a job got.</summary>
        {{callbackAttribute}}public interface IProgress
        {
            Task ReportAsync(int percent);
        }

        [RpcService]
        public interface IJobs
        {
            Task RunAsync(IProgress progress);
        }
        """;

    [Fact]
    public async Task A_callback_interface_gets_RpcService()
    {
        await CodeFixHarness.VerifyAsync(
            Provider,
            DiagnosticIds.InterfaceNotService,
            before: Contract(string.Empty),
            after: Contract("[RpcService]\n"),
            expectedTitle: "Add [RpcService] to 'IProgress'");
    }

    [Fact]
    public async Task No_fix_for_an_interface_declared_in_another_assembly()
    {
        await CodeFixHarness.VerifyNoFixAsync(
            Provider,
            DiagnosticIds.InterfaceNotService,
            """
            namespace Shop;

            [RpcService]
            public interface IJobs
            {
                Task CompareAsync(IComparable<int> comparer);
            }
            """);
    }
}
