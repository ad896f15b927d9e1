namespace RpcGen.Capnp.Tests.HandlerExecution;

/// <summary>
/// Where a connection runs the methods of the objects it serves (<see cref="CapnpConnectionOptions.HandlerExecution"/>),
/// over real sockets. By default a method that blocks its thread holds up nothing else; the
/// <see cref="RpcHandlerExecution.Inline"/> tests show what it costs when the methods run on the reader.
/// </summary>
public sealed class HandlerExecutionTests
{
    private static readonly TimeSpan Timeout = TimeSpan.FromSeconds(30);

    // How long an Inline test gives a call that cannot complete (its reader is blocked) to complete
    // anyway. Never a threshold on a call that should complete: those wait up to Timeout.
    private static readonly TimeSpan CannotComplete = TimeSpan.FromSeconds(2);

    public static TheoryData<string> Transports => ["tcp", "unix"];

    [Theory]
    [MemberData(nameof(Transports))]
    public async Task A_blocking_method_does_not_hold_up_calls_to_another_object_on_its_connection(string transport)
    {
        await using var connections = ProbeConnections.Listen(transport);
        var probe = await connections.ConnectAsync();
        var sibling = probe.Sibling();
        Assert.Equal("ready", await sibling.EchoAsync("ready").WaitAsync(Timeout));

        await AssertCompletesWhileBlockedAsync(connections.State, blocker: probe, other: sibling);
    }

    [Fact]
    public async Task Inline_a_blocking_method_holds_up_every_call_on_its_connection()
    {
        await using var connections = ProbeConnections.Listen("tcp", serverExecution: RpcHandlerExecution.Inline);
        var probe = await connections.ConnectAsync();
        var sibling = probe.Sibling();
        Assert.Equal("ready", await sibling.EchoAsync("ready").WaitAsync(Timeout));

        var blocked = probe.BlockAsync();
        await connections.State.Blocking.Task.WaitAsync(Timeout);
        var echo = sibling.EchoAsync("while blocked");

        await Assert.ThrowsAsync<TimeoutException>(() => echo.WaitAsync(CannotComplete));
        connections.State.Gate.Set();
        Assert.Equal("while blocked", await echo.WaitAsync(Timeout));
        Assert.Equal(1, await blocked.WaitAsync(Timeout));
    }

    [Theory]
    [MemberData(nameof(Transports))]
    public async Task A_blocking_method_of_the_bootstrap_does_not_hold_up_another_connection(string transport)
    {
        await using var connections = ProbeConnections.Listen(transport);
        var first = await connections.ConnectAsync();
        var second = await connections.ConnectAsync();
        Assert.Equal("ready", await second.EchoAsync("ready").WaitAsync(Timeout));

        // The same object, served to both connections: only the first connection's calls wait for it.
        await AssertCompletesWhileBlockedAsync(connections.State, blocker: first, other: second);
    }

    [Theory]
    [MemberData(nameof(Transports))]
    public async Task A_method_that_waits_synchronously_for_a_callback_into_its_caller_completes(string transport)
    {
        await using var connections = ProbeConnections.Listen(transport);
        var probe = await connections.ConnectAsync();

        Assert.Equal("answer to why", await probe.AskAndWaitAsync(new PromptAnswerer(), "why").WaitAsync(Timeout));
    }

    [Fact]
    public async Task Inline_a_method_that_waits_synchronously_for_a_callback_deadlocks_its_connection()
    {
        await using var connections = ProbeConnections.Listen("tcp", serverExecution: RpcHandlerExecution.Inline);
        var probe = await connections.ConnectAsync();
        var asked = probe.AskAndWaitAsync(new PromptAnswerer(), "why");

        await Assert.ThrowsAsync<TimeoutException>(() => asked.WaitAsync(CannotComplete));

        // Only closing the server's connection ends it: the method's wait fails, and its reader goes on to close.
        await Task.WhenAll(connections.Server.Connections.Select(connection => connection.DisposeAsync().AsTask())).WaitAsync(Timeout);
        await Assert.ThrowsAsync<RpcException>(() => asked.WaitAsync(Timeout));
    }

    [Theory]
    [MemberData(nameof(Transports))]
    public async Task A_client_callback_that_waits_synchronously_for_a_call_to_the_server_completes(string transport)
    {
        await using var connections = ProbeConnections.Listen(transport);
        var probe = await connections.ConnectAsync();

        Assert.Equal("echoed why", await probe.AskAsync(new EchoingAnswerer(probe), "why").WaitAsync(Timeout));
    }

    [Fact]
    public async Task Inline_a_client_callback_that_waits_synchronously_for_a_call_to_the_server_deadlocks_the_client()
    {
        await using var connections = ProbeConnections.Listen("tcp");
        var probe = await connections.ConnectAsync(clientExecution: RpcHandlerExecution.Inline);
        var asked = probe.AskAsync(new EchoingAnswerer(probe), "why");

        await Assert.ThrowsAsync<TimeoutException>(() => asked.WaitAsync(CannotComplete));

        // Disposing the connections (the client first) fails the callback's wait and ends the call.
    }

    [Theory]
    [MemberData(nameof(Transports))]
    public async Task Calls_on_one_object_start_in_the_order_they_were_sent(string transport)
    {
        await using var connections = ProbeConnections.Listen(transport);
        var probe = await connections.ConnectAsync();

        var calls = Enumerable.Range(0, 200).Select(number => probe.RecordAsync(number, CancellationToken.None)).ToArray();
        await Task.WhenAll(calls).WaitAsync(Timeout);

        Assert.Equal(Enumerable.Range(0, 200), connections.State.Recorded);
    }

    [Fact]
    public async Task A_call_cancelled_while_it_waits_behind_a_blocking_method_starts_cancelled()
    {
        await using var connections = ProbeConnections.Listen("tcp");
        var probe = await connections.ConnectAsync();
        var sibling = probe.Sibling();
        Assert.Equal("ready", await sibling.EchoAsync("ready").WaitAsync(Timeout));
        var blocked = probe.BlockAsync();
        await connections.State.Blocking.Task.WaitAsync(Timeout);
        using var cancellation = new CancellationTokenSource();

        var waiting = probe.RecordAsync(1, cancellation.Token);
        await cancellation.CancelAsync();
        await Assert.ThrowsAnyAsync<Exception>(() => waiting.WaitAsync(Timeout));

        // The server reads in order: once a later call has completed, it has read the cancellation.
        Assert.Equal("after", await sibling.EchoAsync("after").WaitAsync(Timeout));
        connections.State.Gate.Set();
        Assert.Equal(1, await blocked.WaitAsync(Timeout));
        await probe.RecordAsync(2, CancellationToken.None).WaitAsync(Timeout);
        Assert.Equal([1, 2], connections.State.Recorded);
        Assert.Equal([1], connections.State.StartedCancelled);
    }

    /// <summary>
    /// Blocks a method of <paramref name="blocker"/> and checks that a call on <paramref name="other"/>
    /// completes meanwhile: the gate that lets the blocked method return opens only after it has.
    /// </summary>
    private static async Task AssertCompletesWhileBlockedAsync(ProbeState state, IBlockingProbe blocker, IBlockingProbe other)
    {
        var blocked = blocker.BlockAsync();
        await state.Blocking.Task.WaitAsync(Timeout);

        Assert.Equal("while blocked", await other.EchoAsync("while blocked").WaitAsync(Timeout));
        state.Gate.Set();
        Assert.Equal(1, await blocked.WaitAsync(Timeout));
    }
}
