using static RpcGen.Analyzers.Tests.AnalyzerHarness;

namespace RpcGen.Analyzers.Tests.Diagnostics;

public sealed class Rpc0006InvalidOneWayReturnTests
{
    [Fact]
    public async Task One_way_methods_returning_Task_or_a_value_are_reported()
    {
        var diagnostics = await VerifyAsync(
            """
            namespace Shop;

            [RpcService]
            public interface INotifier
            {
                [OneWay]
                {|RPC0006:Task|} NotifyAsync(string message);

                [OneWay]
                {|RPC0006:Task<int>|} CountAsync();

                [OneWay]
                {|RPC0006:ValueTask<bool>|} ProbeAsync();
            }
            """);

        Assert.Equal(
            [
                "One-way method 'INotifier.NotifyAsync' returns 'Task'; a [OneWay] method must return void or ValueTask",
                "One-way method 'INotifier.CountAsync' returns 'Task<int>'; a [OneWay] method must return void or ValueTask",
                "One-way method 'INotifier.ProbeAsync' returns 'ValueTask<bool>'; a [OneWay] method must return void or ValueTask",
            ],
            diagnostics.Select(Message));
    }

    [Fact]
    public async Task One_way_methods_returning_void_or_ValueTask_are_not_reported()
    {
        await VerifyCleanAsync(
            """
            namespace Shop;

            [RpcService]
            public interface INotifier
            {
                [OneWay]
                void Notify(string message);

                [OneWay]
                ValueTask NotifyAsync(string message);
            }
            """);
    }
}
