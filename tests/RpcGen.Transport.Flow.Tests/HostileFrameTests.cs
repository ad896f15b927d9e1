using System.Buffers;
using System.Text;
using RpcGen.Transport.Flow;

namespace RpcGen.Transport.Flow.Tests;

/// <summary>Each protocol violation closes only the connection that carried it, with a reason sent to the peer.</summary>
public sealed class HostileFrameTests
{
    public static TheoryData<string> Cases => new()
    {
        "oversized", "unknown-kind", "never-opened", "reused-id", "shared-overflow", "borrowed-overflow", "data-after-end", "window-overflow", "bad-flags",
    };

    private static byte[][] Frames(string hostile) => hostile switch
    {
        "oversized" => [Header(FlowFrameKind.Open, FlowFrameFlags.None, 1, 70_000)],
        "unknown-kind" => [[0x77, 0, 0, 0, 0, 0, 0, 0, 0, 0]],
        "never-opened" => [FlowFrames.Build(FlowFrameKind.Data, 5, "x"u8)],
        "reused-id" => [FlowFrames.Build(FlowFrameKind.Open, 1, "x"u8), FlowFrames.Build(FlowFrameKind.Open, 1, "y"u8)],
        "shared-overflow" => [Release(0, 1)],
        "borrowed-overflow" => [FlowFrames.Build(FlowFrameKind.Open, 1, new byte[3000], FlowFrameFlags.Borrowed)],
        "data-after-end" => [FlowFrames.Build(FlowFrameKind.Open, 1, "x"u8, FlowFrameFlags.End), FlowFrames.Build(FlowFrameKind.Data, 1, "y"u8)],
        "window-overflow" => [FlowFrames.Build(FlowFrameKind.Open, 1, new byte[3000])],
        "bad-flags" => [FlowFrames.Build(FlowFrameKind.Open, 1, "x"u8, (FlowFrameFlags)0x80)],
        _ => throw new ArgumentOutOfRangeException(nameof(hostile)),
    };

    [Theory]
    [MemberData(nameof(Cases))]
    public async Task A_hostile_frame_closes_only_its_connection_with_a_reason_sent_and_others_keep_working(string hostile)
    {
        await using var healthy = await FlowPair.StartAsync();
        var limits = FlowLimits.Default with { SharedPoolBytes = 2048, WindowBytes = 2048, MtuBytes = 1024 };
        await using var raw = await RawPeer.StartAsync(new() { Limits = limits });

        foreach (var frame in Frames(hostile))
        {
            await raw.SendAsync(frame);
        }

        var tearDown = await raw.ReceiveAsync(FlowFrameKind.TearDown);
        Assert.NotNull(tearDown);
        Assert.Equal((byte)FlowErrorCode.Network, tearDown.Value.Payload[0]);
        await raw.Victim.Completion.WaitAsync(FlowPair.Timeout);
        var reason = raw.Victim.CloseReason;
        Assert.NotNull(reason);
        Assert.Equal(FlowErrorCode.Network, reason.Code);
        Assert.Contains("broke the protocol", reason.Message, StringComparison.Ordinal);
        Assert.Contains(Encoding.UTF8.GetString(tearDown.Value.Payload.AsSpan(1)), reason.Message, StringComparison.Ordinal);

        var flow = healthy.Dialer.OpenFlow();
        await flow.WriteMessageAndCloseAsync(new ReadOnlyMemory<byte>[] { "still here"u8.ToArray() });
        var accepted = await healthy.Acceptor.AcceptFlowAsync().AsTask().WaitAsync(FlowPair.Timeout);
        Assert.Equal("still here"u8.ToArray(), await accepted.ReadMessageAsync().AsTask().WaitAsync(FlowPair.Timeout));
    }

    [Fact]
    public void The_parser_rejects_a_header_over_the_limit_before_its_payload_arrives()
    {
        var header = Header(FlowFrameKind.Data, FlowFrameFlags.None, 3, 1_000_000);
        var status = FlowFrames.TryParse(new System.Buffers.ReadOnlySequence<byte>(header), 65_536, out _, out _, out _, out var error);
        Assert.Equal(FlowParseStatus.Invalid, status);
        Assert.Equal(FlowFrames.Oversized, error);
    }

    [Theory]
    [InlineData(FlowFrameKind.Ping, 0u, 4)]
    [InlineData(FlowFrameKind.Release, 0u, 7)]
    [InlineData(FlowFrameKind.Data, 0u, 1)]
    [InlineData(FlowFrameKind.Ping, 9u, 8)]
    [InlineData(FlowFrameKind.SetupAck, 0u, 1)]
    public void The_parser_rejects_lengths_and_ids_that_do_not_fit_the_kind(FlowFrameKind kind, uint flowId, int length)
    {
        var frame = Header(kind, FlowFrameFlags.None, flowId, length);
        var status = FlowFrames.TryParse(new System.Buffers.ReadOnlySequence<byte>(frame), 65_536, out _, out _, out _, out var error);
        Assert.Equal(FlowParseStatus.Invalid, status);
        Assert.NotNull(error);
    }

    [Fact]
    public void The_parser_waits_for_a_whole_frame_and_reads_it_back()
    {
        var frame = FlowFrames.Build(FlowFrameKind.Data, 7, "payload"u8, FlowFrameFlags.MessageEnd);
        var partial = new System.Buffers.ReadOnlySequence<byte>(frame, 0, frame.Length - 1);
        Assert.Equal(FlowParseStatus.Incomplete, FlowFrames.TryParse(partial, 1024, out _, out _, out _, out _));
        Assert.Equal(FlowParseStatus.Frame, FlowFrames.TryParse(new System.Buffers.ReadOnlySequence<byte>(frame), 1024, out var header, out var payload, out _, out _));
        Assert.Equal(new FlowFrameHeader(FlowFrameKind.Data, FlowFrameFlags.MessageEnd, 7, 7), header);
        Assert.Equal("payload"u8.ToArray(), payload.ToArray());
    }

    private static byte[] Header(FlowFrameKind kind, FlowFrameFlags flags, uint flowId, int length)
    {
        var header = new byte[FlowFrames.HeaderSize];
        FlowFrames.WriteHeader(header, new FlowFrameHeader(kind, flags, flowId, length));
        return header;
    }

    private static byte[] Release(uint flowId, uint tokens)
    {
        var payload = new byte[8];
        FlowFrames.WriteRelease(payload, flowId, tokens);
        return FlowFrames.Build(FlowFrameKind.Release, 0, payload);
    }
}

/// <summary>Limits that refuse a flow without closing the connection.</summary>
public sealed class FlowLimitTests
{
    [Fact]
    public async Task A_flow_past_MaxFlows_is_reset_with_a_reason_and_the_connection_goes_on()
    {
        var limits = FlowLimits.Default with { MaxFlows = 2 };
        await using var raw = await RawPeer.StartAsync(new() { Limits = limits });
        foreach (var id in new uint[] { 1, 3, 5 })
        {
            await raw.SendAsync(FlowFrames.Build(FlowFrameKind.Open, id, "x"u8, FlowFrameFlags.Borrowed | FlowFrameFlags.MessageEnd));
        }

        var reset = await raw.ReceiveAsync(FlowFrameKind.Reset);
        Assert.NotNull(reset);
        Assert.Equal(5u, reset.Value.Header.FlowId);
        Assert.Contains("too many flows", System.Text.Encoding.UTF8.GetString(reset.Value.Payload), StringComparison.Ordinal);

        // The two flows within the limit were accepted, and the connection still answers.
        for (var i = 0; i < 2; i++)
        {
            var flow = await raw.Victim.AcceptFlowAsync().AsTask().WaitAsync(FlowPair.Timeout);
            Assert.Equal("x"u8.ToArray(), await flow.ReadMessageAsync().AsTask().WaitAsync(FlowPair.Timeout));
        }

        await raw.SendAsync(FlowFrames.Build(FlowFrameKind.Ping, 0, new byte[8]));
        Assert.NotNull(await raw.ReceiveAsync(FlowFrameKind.Pong));
        Assert.False(raw.Victim.IsClosed);
    }

    [Fact]
    public async Task A_message_over_MaxMessageBytes_fails_that_flow_only()
    {
        var limits = FlowLimits.Default with { MaxMessageBytes = 1000 };
        await using var pair = await FlowPair.StartAsync(null, new() { Limits = limits });
        var flow = pair.Dialer.OpenFlow();
        await flow.WriteMessageAsync(new byte[5000]);
        var accepted = await pair.Acceptor.AcceptFlowAsync().AsTask().WaitAsync(FlowPair.Timeout);
        var error = await Assert.ThrowsAsync<FlowException>(() => accepted.ReadMessageAsync().AsTask().WaitAsync(FlowPair.Timeout));
        Assert.Contains("MaxMessageBytes", error.Message, StringComparison.Ordinal);

        var other = pair.Dialer.OpenFlow();
        await other.WriteMessageAsync("fine"u8.ToArray());
        var otherAccepted = await pair.Acceptor.AcceptFlowAsync().AsTask().WaitAsync(FlowPair.Timeout);
        Assert.Equal("fine"u8.ToArray(), await otherAccepted.ReadMessageAsync().AsTask().WaitAsync(FlowPair.Timeout));
    }
}

/// <summary>A peer that sends and never reads cannot make this side queue without end.</summary>
public sealed class NonReadingPeerTests
{
    [Fact]
    public async Task A_ping_flood_from_a_peer_that_never_reads_closes_its_connection()
    {
        await using var raw = await RawPeer.StartAsync();
        var ping = FlowFrames.Build(FlowFrameKind.Ping, 0, new byte[8]);
        var batch = new byte[ping.Length * 10_000];
        for (var i = 0; i < 10_000; i++)
        {
            ping.CopyTo(batch, i * ping.Length);
        }

        // The pongs fill the socket buffers, then the control queue; at its bound the connection ends.
        for (var round = 0; round < 400 && !raw.Victim.IsClosed; round++)
        {
            try
            {
                await raw.Link.Output.WriteAsync(batch).AsTask().WaitAsync(FlowPair.Timeout);
            }
            catch (Exception ex) when (ex is not TimeoutException)
            {
                break;
            }
        }

        await raw.Victim.Completion.WaitAsync(FlowPair.Timeout);
        Assert.Contains("does not read", raw.Victim.CloseReason!.Message, StringComparison.Ordinal);
    }
}
