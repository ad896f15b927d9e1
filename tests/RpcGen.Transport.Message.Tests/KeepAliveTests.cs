using MessagePack;
using Microsoft.Extensions.Time.Testing;

namespace RpcGen.Transport.Message.Tests;

/// <summary>
/// Keepalive, driven by a fake clock: a quiet connection is pinged, a peer that does not answer is
/// declared dead within the timeout (pending calls fail with Disconnected), an answered ping gives
/// the round-trip time.
/// </summary>
public class KeepAliveTests
{
    private static readonly TimeSpan Timeout = TransportFixture.Timeout;
    private static readonly TimeSpan Interval = TimeSpan.FromSeconds(30);
    private static readonly TimeSpan PongTimeout = TimeSpan.FromSeconds(20);

    [Fact]
    public async Task A_peer_that_answers_the_hello_but_never_a_ping_is_declared_dead_and_pending_calls_fail()
    {
        var time = new FakeTimeProvider();
        using var listener = RawPeer.Listen(out _);
        var (client, server) = await RawPeer.ConnectClientAsync(listener, Options(time)).WaitAsync(Timeout);
        await using var clientScope = client;
        await using var serverScope = server;
        var call = client.GetService<IScenarioService>().AddAsync(1, 2).AsTask();
        Assert.Equal(FrameKind.Request, (await server.ReadCallFrameAsync().WaitAsync(Timeout))!.Value.Header.Kind);

        time.Advance(Interval);
        Assert.Equal(FrameKind.Ping, (await server.ReadFrameAsync().WaitAsync(Timeout))!.Value.Header.Kind);
        time.Advance(PongTimeout - TimeSpan.FromSeconds(1));
        Assert.False(call.IsCompleted);
        time.Advance(TimeSpan.FromSeconds(1));

        var error = await Assert.ThrowsAsync<RpcException>(() => call.WaitAsync(Timeout));
        Assert.Equal(RpcStatusCode.Disconnected, error.StatusCode);
        Assert.Contains("RpcClientOptions.KeepAliveTimeout", error.Message);
        await client.Completion.WaitAsync(Timeout);
        Assert.Equal(RpcConnectionState.Shutdown, client.State);
    }

    [Fact]
    public async Task An_answered_ping_measures_the_round_trip_and_keeps_the_connection()
    {
        var time = new FakeTimeProvider();
        using var listener = RawPeer.Listen(out _);
        var (client, server) = await RawPeer.ConnectClientAsync(listener, Options(time)).WaitAsync(Timeout);
        await using var clientScope = client;
        await using var serverScope = server;
        Assert.Equal(TimeSpan.Zero, client.RoundTripTime); // the hello's, on a clock that did not move

        time.Advance(Interval);
        var ping = (await server.ReadFrameAsync().WaitAsync(Timeout))!.Value.Header;
        Assert.Equal(FrameKind.Ping, ping.Kind);
        time.Advance(TimeSpan.FromMilliseconds(7));
        await server.SendAsync(FrameParserTests.Frame(new FrameHeader(FrameKind.Pong, 0, 0, ping.CallId, 0, 0, 0), []));

        // A call answered after the pong proves the client has read the pong.
        var call = client.GetService<IScenarioService>().AddAsync(1, 2).AsTask();
        var request = (await server.ReadCallFrameAsync().WaitAsync(Timeout))!.Value.Header;
        await server.SendFrameAsync(FrameKind.Response, request.CallId, 0, 0, RawPeer.Pack((ref MessagePackWriter w) => w.Write(3)));
        Assert.Equal(3, await call.WaitAsync(Timeout));
        Assert.Equal(TimeSpan.FromMilliseconds(7), client.RoundTripTime);

        time.Advance(PongTimeout);
        Assert.Null(client.CloseReason);
        Assert.Equal(RpcConnectionState.Ready, client.State);
    }

    [Fact]
    public async Task An_infinite_interval_never_pings()
    {
        var time = new FakeTimeProvider();
        await using var fixture = await TransportFixture.StartAsync("tcp", clientOptions: new RpcClientOptions { TimeProvider = time, KeepAliveInterval = System.Threading.Timeout.InfiniteTimeSpan });

        time.Advance(TimeSpan.FromDays(1));

        Assert.Equal(3, await fixture.Client.GetService<IScenarioService>().AddAsync(1, 2).AsTask().WaitAsync(Timeout));
        Assert.Null(fixture.Client.CloseReason);
    }

    [Fact]
    public async Task Pings_do_not_keep_an_idle_connection_open_past_the_servers_idle_timeout()
    {
        var time = new FakeTimeProvider();
        await using var fixture = await TransportFixture.StartAsync("tcp", timeProvider: time);
        await using var pinger = await RawPeer.ConnectAsync(fixture.Address);
        var idle = RpcLimits.Default.IdleTimeout;

        await PingAsync(pinger, 1);
        time.Advance(idle - TimeSpan.FromSeconds(30));
        await PingAsync(pinger, 2); // answered, but not activity
        time.Advance(TimeSpan.FromSeconds(31));

        var frames = await pinger.ReadUntilClosedAsync().WaitAsync(Timeout);
        Assert.Contains("RpcLimits.IdleTimeout", RawPeer.ReadError(Assert.Single(frames).Payload).Message);
    }

    private static async Task PingAsync(RawPeer peer, uint sequence)
    {
        await peer.SendAsync(FrameParserTests.Frame(new FrameHeader(FrameKind.Ping, 0, 0, sequence, 0, 0, 0), []));
        var pong = (await peer.ReadFrameAsync().WaitAsync(Timeout))!.Value.Header;
        Assert.Equal((FrameKind.Pong, sequence), (pong.Kind, pong.CallId));
    }

    private static RpcClientOptions Options(TimeProvider time) =>
        new() { TimeProvider = time, KeepAliveInterval = Interval, KeepAliveTimeout = PongTimeout };
}
