using RpcGen.Analyzers.CodeFixes;

namespace RpcGen.Analyzers.Tests.CodeFixes;

public sealed class OneWayReturnCodeFixTests
{
    private static readonly OneWayReturnCodeFixProvider Provider = new();

    [Fact]
    public async Task One_way_Task_becomes_ValueTask()
    {
        await CodeFixHarness.VerifyAsync(
            Provider,
            DiagnosticIds.InvalidOneWayReturn,
            before: """
            namespace Shop;

            [RpcService]
            public interface INotifier
            {
                [OneWay]
                Task NotifyAsync(string message);
            }
            """,
            after: """
            namespace Shop;

            [RpcService]
            public interface INotifier
            {
                [OneWay]
                ValueTask NotifyAsync(string message);
            }
            """,
            expectedTitle: "Return ValueTask from the one-way method");
    }

    [Fact]
    public async Task One_way_returning_a_value_loses_its_OneWay_attribute_and_keeps_its_doc_comment()
    {
        await CodeFixHarness.VerifyAsync(
            Provider,
            DiagnosticIds.InvalidOneWayReturn,
            before: """
            namespace Shop;

            [RpcService]
            public interface INotifier
            {
                /// <summary>How many are waiting.</summary>
                [OneWay]
                Task<int> CountAsync();
            }
            """,
            after: """
            namespace Shop;

            [RpcService]
            public interface INotifier
            {
                /// <summary>How many are waiting.</summary>
                Task<int> CountAsync();
            }
            """,
            expectedTitle: "Remove [OneWay]: the method returns a value");
    }

    [Fact]
    public async Task OneWay_is_removed_from_a_shared_attribute_list()
    {
        await CodeFixHarness.VerifyAsync(
            Provider,
            DiagnosticIds.InvalidOneWayReturn,
            before: """
            namespace Shop;

            [RpcService]
            public interface INotifier
            {
                [OneWay, RpcMethod(3)]
                ValueTask<bool> ProbeAsync();
            }
            """,
            after: """
            namespace Shop;

            [RpcService]
            public interface INotifier
            {
                [RpcMethod(3)]
                ValueTask<bool> ProbeAsync();
            }
            """,
            expectedTitle: "Remove [OneWay]: the method returns a value");
    }
}
