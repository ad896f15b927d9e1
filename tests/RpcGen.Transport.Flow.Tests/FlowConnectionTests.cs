using RpcGen.Transport.Flow;

namespace RpcGen.Transport.Flow.Tests;

public sealed class FlowConnectionTests
{
    private static readonly TimeSpan Timeout = FlowPair.Timeout;

    [Fact]
    public async Task Bytes_written_on_a_dialed_flow_arrive_on_the_accepted_flow_and_back()
    {
        await using var pair = await FlowPair.StartAsync();
        var flow = pair.Dialer.OpenFlow();
        await flow.Output.WriteAsync("hello"u8.ToArray());
        await flow.CloseWriteAsync();

        var accepted = await pair.Acceptor.AcceptFlowAsync().AsTask().WaitAsync(Timeout);
        Assert.Equal("hello"u8.ToArray(), await accepted.ReadAllAsync());
        await accepted.Output.WriteAsync("world"u8.ToArray());
        await accepted.DisposeAsync();

        Assert.Equal("world"u8.ToArray(), await flow.ReadAllAsync());
        await flow.DisposeAsync();
        await pair.Dialer.WhenNoFlowsAsync().WaitAsync(Timeout);
        await pair.Acceptor.WhenNoFlowsAsync().WaitAsync(Timeout);
        Assert.Equal(0, pair.Dialer.FlowCount);
        Assert.Equal(0, pair.Acceptor.FlowCount);
    }

    [Fact]
    public async Task A_new_flow_sends_its_first_bytes_on_borrowed_credit_and_the_credit_returns_when_it_closes()
    {
        await using var pair = await FlowPair.StartAsync();
        var pool = pair.Dialer.SharedCreditAvailable;
        Assert.Equal(FlowLimits.Default.SharedPoolBytes, pool);

        // Nothing was granted for this flow yet: the bytes go in its Open frame on borrowed credit.
        var flow = pair.Dialer.OpenFlow();
        await flow.WriteMessageAsync(FlowTestExtensions.Pattern(1000));
        var accepted = await pair.Acceptor.AcceptFlowAsync().AsTask().WaitAsync(Timeout);
        Assert.Equal(FlowTestExtensions.Pattern(1000), await accepted.ReadMessageAsync().AsTask().WaitAsync(Timeout));

        await flow.DisposeAsync();
        await accepted.DisposeAsync();
        await pair.Acceptor.WhenNoFlowsAsync().WaitAsync(Timeout);
        await pair.Dialer.WhenNoFlowsAsync().WaitAsync(Timeout);

        // The acceptor queued the pool's return before it answers this ping, and frames keep their order.
        await pair.Dialer.PingAsync().WaitAsync(Timeout);
        Assert.Equal(pool, pair.Dialer.SharedCreditAvailable);
    }

    [Fact]
    public async Task A_flow_carries_many_windows_of_bytes_in_both_directions()
    {
        var limits = FlowLimits.Default with { WindowBytes = 64 * 1024, SharedPoolBytes = 16 * 1024, MtuBytes = 4096 };
        await using var pair = await FlowPair.StartAsync(new() { Limits = limits }, new() { Limits = limits });
        var payload = FlowTestExtensions.Pattern(3 * 1024 * 1024, 7);
        var flow = pair.Dialer.OpenFlow();
        var sending = Task.Run(async () =>
        {
            await flow.Output.WriteAsync(payload);
            await flow.CloseWriteAsync();
        });
        var accepted = await pair.Acceptor.AcceptFlowAsync().AsTask().WaitAsync(Timeout);
        var echo = Task.Run(async () =>
        {
            await using var stream = accepted.AsStream();
            var received = await accepted.ReadAllAsync();
            await stream.WriteAsync(received);
        });
        var echoed = flow.ReadAllAsync();
        await sending.WaitAsync(Timeout);
        await echo.WaitAsync(Timeout);
        Assert.Equal(payload, await echoed);
        await flow.DisposeAsync();
    }

    [Fact]
    public async Task Messages_keep_their_boundaries_and_several_buffers_read_back_as_one()
    {
        await using var pair = await FlowPair.StartAsync(new() { Limits = FlowLimits.Default with { MtuBytes = 512, WindowBytes = 4096 } });
        var flow = pair.Dialer.OpenFlow();
        await flow.WriteMessageAsync(new ReadOnlyMemory<byte>[] { "ab"u8.ToArray(), "cd"u8.ToArray(), "e"u8.ToArray() });
        await flow.WriteMessageAsync(FlowTestExtensions.Pattern(10_000));
        await flow.WriteMessageAndCloseAsync(new ReadOnlyMemory<byte>[] { "last"u8.ToArray() });

        var accepted = await pair.Acceptor.AcceptFlowAsync().AsTask().WaitAsync(Timeout);
        Assert.Equal("abcde"u8.ToArray(), await accepted.ReadMessageAsync().AsTask().WaitAsync(Timeout));
        Assert.Equal(FlowTestExtensions.Pattern(10_000), await accepted.ReadMessageAsync().AsTask().WaitAsync(Timeout));
        Assert.Equal("last"u8.ToArray(), await accepted.ReadMessageAsync().AsTask().WaitAsync(Timeout));
        Assert.Null(await accepted.ReadMessageAsync().AsTask().WaitAsync(Timeout));
    }

    [Fact]
    public async Task Each_direction_closes_on_its_own()
    {
        await using var pair = await FlowPair.StartAsync();
        var flow = pair.Dialer.OpenFlow();
        await flow.WriteMessageAndCloseAsync(new ReadOnlyMemory<byte>[] { "request"u8.ToArray() });
        var accepted = await pair.Acceptor.AcceptFlowAsync().AsTask().WaitAsync(Timeout);
        Assert.Equal("request"u8.ToArray(), await accepted.ReadAllAsync());

        // The dialer's direction ended; the acceptor's still carries bytes.
        for (var i = 0; i < 3; i++)
        {
            await accepted.WriteMessageAsync(new[] { (byte)i });
            Assert.Equal(new[] { (byte)i }, await flow.ReadMessageAsync().AsTask().WaitAsync(Timeout));
        }

        await accepted.CloseWriteAsync();
        Assert.Null(await flow.ReadMessageAsync().AsTask().WaitAsync(Timeout));
        await pair.Dialer.WhenNoFlowsAsync().WaitAsync(Timeout);
    }

    [Fact]
    public async Task A_reset_reaches_the_peer_as_an_error_with_its_reason_and_other_flows_go_on()
    {
        await using var pair = await FlowPair.StartAsync();
        var other = pair.Dialer.OpenFlow();
        await other.WriteMessageAsync("x"u8.ToArray());
        var otherAccepted = await pair.Acceptor.AcceptFlowAsync().AsTask().WaitAsync(Timeout);

        var flow = pair.Dialer.OpenFlow();
        await flow.WriteMessageAsync("y"u8.ToArray());
        var accepted = await pair.Acceptor.AcceptFlowAsync().AsTask().WaitAsync(Timeout);
        Assert.Equal("y"u8.ToArray(), await accepted.ReadMessageAsync().AsTask().WaitAsync(Timeout));
        flow.Reset("the user gave up");

        var error = await Assert.ThrowsAsync<FlowException>(() => accepted.ReadMessageAsync().AsTask().WaitAsync(Timeout));
        Assert.Equal(FlowErrorCode.Aborted, error.Code);
        Assert.Contains("the user gave up", error.Message, StringComparison.Ordinal);
        await Assert.ThrowsAsync<FlowException>(async () =>
        {
            for (var i = 0; i < 100; i++)
            {
                await accepted.WriteMessageAsync(new byte[1000]).AsTask().WaitAsync(Timeout);
            }
        });

        Assert.Equal("x"u8.ToArray(), await otherAccepted.ReadMessageAsync().AsTask().WaitAsync(Timeout));
        await otherAccepted.WriteMessageAsync("z"u8.ToArray());
        Assert.Equal("z"u8.ToArray(), await other.ReadMessageAsync().AsTask().WaitAsync(Timeout));
    }

    [Fact]
    public async Task Either_end_opens_flows_on_one_connection()
    {
        await using var pair = await FlowPair.StartAsync();
        var fromAcceptor = pair.Acceptor.OpenFlow();
        await fromAcceptor.WriteMessageAndCloseAsync(new ReadOnlyMemory<byte>[] { "back"u8.ToArray() });
        var atDialer = await pair.Dialer.AcceptFlowAsync().AsTask().WaitAsync(Timeout);
        Assert.Equal(0u, atDialer.Id % 2);
        Assert.Equal("back"u8.ToArray(), await atDialer.ReadMessageAsync().AsTask().WaitAsync(Timeout));
        Assert.False(atDialer.IsDialed);
    }

    [Fact]
    public async Task A_thousand_flows_open_and_close_on_one_connection_and_nothing_is_left()
    {
        await using var pair = await FlowPair.StartAsync();
        var pool = pair.Dialer.SharedCreditAvailable;
        var server = Task.Run(async () =>
        {
            for (var i = 0; i < 1000; i++)
            {
                var accepted = await pair.Acceptor.AcceptFlowAsync().AsTask().WaitAsync(Timeout);
                var message = await accepted.ReadMessageAsync().AsTask().WaitAsync(Timeout);
                await accepted.WriteMessageAndCloseAsync(new ReadOnlyMemory<byte>[] { message! });
                await accepted.DisposeAsync();
            }
        });

        for (var i = 0; i < 1000; i++)
        {
            var flow = pair.Dialer.OpenFlow();
            await flow.WriteMessageAndCloseAsync(new ReadOnlyMemory<byte>[] { BitConverter.GetBytes(i) });
            Assert.Equal(BitConverter.GetBytes(i), await flow.ReadMessageAsync().AsTask().WaitAsync(Timeout));
            await flow.DisposeAsync();
        }

        await server.WaitAsync(Timeout);
        await pair.Dialer.WhenNoFlowsAsync().WaitAsync(Timeout);
        await pair.Acceptor.WhenNoFlowsAsync().WaitAsync(Timeout);
        await pair.Dialer.PingAsync().WaitAsync(Timeout);
        Assert.Equal(0, pair.Dialer.FlowCount);
        Assert.Equal(0, pair.Acceptor.FlowCount);
        Assert.Equal(pool, pair.Dialer.SharedCreditAvailable);
    }
}
