using Microsoft.Extensions.Time.Testing;
using RpcGen.Transport.Flow;

namespace RpcGen.Transport.Flow.Tests;

/// <summary>Health checks, lame duck, authorization and fairness of one connection.</summary>
public sealed class ConnectionLifeTests
{
    private static readonly TimeSpan Timeout = FlowPair.Timeout;

    [Fact]
    public async Task A_peer_that_goes_silent_is_declared_dead_after_the_channel_timeout_and_its_flows_fail()
    {
        var time = new FakeTimeProvider();
        var limits = FlowLimits.Default with { ChannelTimeout = TimeSpan.FromSeconds(30) };
        await using var raw = await RawPeer.StartAsync(new() { Limits = limits, TimeProvider = time });
        await raw.SendAsync(FlowFrames.Build(FlowFrameKind.Open, 1, "hi"u8, FlowFrameFlags.Borrowed | FlowFrameFlags.MessageEnd));
        var flow = await raw.Victim.AcceptFlowAsync().AsTask().WaitAsync(Timeout);

        // The first period sends a health check the silent peer never answers.
        time.Advance(TimeSpan.FromSeconds(10));
        Assert.NotNull(await raw.ReceiveAsync(FlowFrameKind.Ping));
        Assert.False(raw.Victim.IsClosed);
        for (var i = 0; i < 3; i++)
        {
            time.Advance(TimeSpan.FromSeconds(10));
        }

        await raw.Victim.Completion.WaitAsync(Timeout);
        Assert.Equal(FlowErrorCode.Network, raw.Victim.CloseReason!.Code);
        Assert.Contains("dead", raw.Victim.CloseReason.Message, StringComparison.Ordinal);
        var error = await Assert.ThrowsAsync<FlowException>(async () =>
        {
            while (await flow.ReadMessageAsync().AsTask().WaitAsync(Timeout) is not null)
            {
            }
        });
        Assert.Equal(FlowErrorCode.Network, error.Code);
    }

    [Fact]
    public async Task Health_checks_measure_the_round_trip_and_the_connection_records_its_last_use()
    {
        await using var pair = await FlowPair.StartAsync();
        Assert.Null(pair.Dialer.Rtt);
        var rtt = await pair.Dialer.PingAsync().WaitAsync(Timeout);
        Assert.Equal(rtt, pair.Dialer.Rtt);
        var before = pair.Dialer.LastUsed;
        pair.Dialer.OpenFlow();
        Assert.True(pair.Dialer.LastUsed >= before);
    }

    [Fact]
    public async Task Lame_duck_refuses_new_flows_both_ways_lets_open_flows_finish_then_closes()
    {
        var limits = FlowLimits.Default with { LameDuckTimeout = TimeSpan.FromMinutes(5) };
        await using var pair = await FlowPair.StartAsync(new() { Limits = limits }, new() { Limits = limits });
        var flow = pair.Dialer.OpenFlow();
        await flow.WriteMessageAsync("one"u8.ToArray());
        var accepted = await pair.Acceptor.AcceptFlowAsync().AsTask().WaitAsync(Timeout);
        Assert.Equal("one"u8.ToArray(), await accepted.ReadMessageAsync().AsTask().WaitAsync(Timeout));

        var closing = pair.Acceptor.CloseAsync();

        // The acceptor answers this ping after it sent lame duck, so the dialer knows by now.
        await pair.Dialer.PingAsync().WaitAsync(Timeout);
        Assert.True(pair.Dialer.IsLameDuck);
        Assert.Equal(FlowErrorCode.BadState, Assert.Throws<FlowException>(() => pair.Dialer.OpenFlow()).Code);
        Assert.Equal(FlowErrorCode.BadState, Assert.Throws<FlowException>(() => pair.Acceptor.OpenFlow()).Code);

        // The open flow still works both ways.
        await flow.WriteMessageAsync("two"u8.ToArray());
        Assert.Equal("two"u8.ToArray(), await accepted.ReadMessageAsync().AsTask().WaitAsync(Timeout));
        await accepted.WriteMessageAndCloseAsync(new ReadOnlyMemory<byte>[] { "bye"u8.ToArray() });
        Assert.Equal("bye"u8.ToArray(), await flow.ReadMessageAsync().AsTask().WaitAsync(Timeout));
        Assert.False(closing.IsCompleted);

        await flow.DisposeAsync();
        await accepted.DisposeAsync();
        await closing.WaitAsync(Timeout);
        await pair.Dialer.Completion.WaitAsync(Timeout);
        Assert.Equal(FlowErrorCode.Aborted, pair.Dialer.CloseReason!.Code);
    }

    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public async Task A_refusing_authorizer_makes_the_connection_fail_as_NotTrusted_on_both_sides(bool acceptorRefuses)
    {
        var (client, server) = await FlowPair.ConnectLinksAsync();
        var refuse = PeerAuthorizers.Names("alice");
        var accepting = FlowConnection.AcceptAsync(server, new() { Name = "server", Authorizer = acceptorRefuses ? refuse : null });
        var dialing = FlowConnection.ConnectAsync(client, new() { Name = "mallory", Authorizer = acceptorRefuses ? null : refuse });

        var dialError = await Assert.ThrowsAsync<FlowException>(() => dialing.WaitAsync(Timeout));
        var acceptError = await Assert.ThrowsAsync<FlowException>(() => accepting.WaitAsync(Timeout));
        Assert.Equal(FlowErrorCode.NotTrusted, dialError.Code);
        Assert.Equal(FlowErrorCode.NotTrusted, acceptError.Code);
        Assert.Contains("not one of the allowed peers", (acceptorRefuses ? dialError : acceptError).Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_bulk_flow_delays_a_small_message_by_a_few_frames_not_by_its_whole_transfer()
    {
        var limits = FlowLimits.Default with { MtuBytes = 1024 };
        await using var pair = await FlowPair.StartAsync(new() { Limits = limits }, new() { Limits = limits });
        var bulk = pair.Dialer.OpenFlow();
        var bulkBytes = FlowTestExtensions.Pattern(8 * 1024 * 1024);
        var sending = Task.Run(async () =>
        {
            await bulk.Output.WriteAsync(bulkBytes);
            await bulk.CloseWriteAsync();
        });
        var bulkAccepted = await pair.Acceptor.AcceptFlowAsync().AsTask().WaitAsync(Timeout);
        var draining = bulkAccepted.ReadAllAsync();

        var small = pair.Dialer.OpenFlow();
        await small.WriteMessageAsync("first"u8.ToArray());
        var smallAccepted = await pair.Acceptor.AcceptFlowAsync().AsTask().WaitAsync(Timeout);
        for (var i = 0; i < 20; i++)
        {
            await small.WriteMessageAsync(BitConverter.GetBytes(i));
        }

        Assert.Equal("first"u8.ToArray(), await smallAccepted.ReadMessageAsync().AsTask().WaitAsync(Timeout));
        for (var i = 0; i < 20; i++)
        {
            Assert.Equal(BitConverter.GetBytes(i), await smallAccepted.ReadMessageAsync().AsTask().WaitAsync(Timeout));
        }

        await sending.WaitAsync(Timeout);
        Assert.Equal(bulkBytes.Length, (await draining.WaitAsync(Timeout)).Length);

        // Round-robin: a small chunk waits behind at most one bulk chunk plus a few control frames,
        // while the bulk transfer is 8,192 frames.
        Assert.True(bulk.FramesWritten >= 8192, $"the bulk flow wrote {bulk.FramesWritten} frames");
        Assert.InRange(small.MaxFramesWaited, 0, 8);
    }
}
