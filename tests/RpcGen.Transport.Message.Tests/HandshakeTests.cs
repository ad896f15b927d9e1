using Microsoft.Extensions.Time.Testing;

namespace RpcGen.Transport.Message.Tests;

/// <summary>
/// The hello exchange and the connect timeout: ConnectAsync returns only after the server's hello,
/// a silent peer fails it within the timeout, versions that differ fail on both sides with both
/// versions named, and a server stops a peer that skips or garbles the hello at its first frame.
/// </summary>
public class HandshakeTests
{
    private static readonly TimeSpan Timeout = TransportFixture.Timeout;

    [Theory]
    [MemberData(nameof(TransportFixture.Transports), MemberType = typeof(TransportFixture))]
    public async Task ConnectAsync_returns_after_the_servers_hello_with_a_round_trip_measured(string transport)
    {
        await using var fixture = await TransportFixture.StartAsync(transport);

        Assert.Equal(RpcConnectionState.Ready, fixture.Client.State);
        Assert.NotNull(fixture.Client.RoundTripTime);
        Assert.Equal(3, await fixture.Client.GetService<IScenarioService>().AddAsync(1, 2).AsTask().WaitAsync(Timeout));
    }

    [Fact]
    public async Task A_peer_that_accepts_but_never_answers_the_hello_fails_ConnectAsync_at_the_connect_timeout()
    {
        using var listener = RawPeer.Listen(out var address);
        var time = new FakeTimeProvider();
        var connecting = RpcClient.ConnectAsync(address, new RpcClientOptions { ConnectTimeout = TimeSpan.FromSeconds(3), TimeProvider = time });
        await using var silent = new RawPeer(await listener.AcceptAsync().WaitAsync(Timeout));
        await silent.ExpectHelloAsync(answer: false).WaitAsync(Timeout);
        Assert.False(connecting.IsCompleted);

        time.Advance(TimeSpan.FromSeconds(3));

        var error = await Assert.ThrowsAsync<RpcException>(() => connecting.WaitAsync(Timeout));
        Assert.Equal(RpcStatusCode.Disconnected, error.StatusCode);
        Assert.Contains(address, error.Message);
        Assert.Contains("RpcClientOptions.ConnectTimeout", error.Message);
        Assert.Contains("did not answer the hello", error.Message);
        Assert.Empty(await silent.ReadUntilClosedAsync().WaitAsync(Timeout)); // the client hung up
    }

    [Fact]
    public async Task A_server_of_another_version_fails_ConnectAsync_naming_both_versions()
    {
        using var listener = RawPeer.Listen(out var address);
        var connecting = RpcClient.ConnectAsync(address);
        await using var newer = new RawPeer(await listener.AcceptAsync().WaitAsync(Timeout));
        await newer.ExpectHelloAsync(version: 99).WaitAsync(Timeout);

        var error = await Assert.ThrowsAsync<RpcException>(() => connecting.WaitAsync(Timeout));
        Assert.Equal(RpcStatusCode.ProtocolError, error.StatusCode);
        Assert.Contains("the client speaks version 1, the server speaks version 99", error.Message);
        Assert.Contains(address, error.Message);

        // The client told the server why before it hung up.
        var abort = Assert.Single(await newer.ReadUntilClosedAsync().WaitAsync(Timeout));
        Assert.Equal(FrameKind.Abort, abort.Header.Kind);
        Assert.Contains("the client speaks version 1, the server speaks version 99", RawPeer.ReadError(abort.Payload).Message);
    }

    [Fact]
    public async Task A_client_of_another_version_is_aborted_by_the_server_naming_both_versions()
    {
        await using var fixture = await TransportFixture.StartAsync("tcp");
        await using var older = await RawPeer.ConnectAsync(fixture.Address, hello: false);

        await older.SendAsync(RawPeer.HelloFrame(version: 7));

        var abort = Assert.Single(await older.ReadUntilClosedAsync().WaitAsync(Timeout));
        Assert.Equal(FrameKind.Abort, abort.Header.Kind);
        var (code, message) = RawPeer.ReadError(abort.Payload);
        Assert.Equal((int)RpcStatusCode.ProtocolError, code);
        Assert.Contains("the client speaks version 7, the server speaks version 1", message);
        await fixture.Logs.WaitForAsync("the client speaks version 7", Timeout);
    }

    [Fact]
    public async Task A_first_frame_that_is_not_a_hello_aborts_the_connection()
    {
        await using var fixture = await TransportFixture.StartAsync("tcp");
        await using var peer = await RawPeer.ConnectAsync(fixture.Address, hello: false);

        await peer.SendAsync(FrameParserTests.Frame(new FrameHeader(FrameKind.Ping, 0, 0, 1, 0, 0, 0), []));

        var abort = Assert.Single(await peer.ReadUntilClosedAsync().WaitAsync(Timeout));
        Assert.Contains("The first frame must be a Hello", RawPeer.ReadError(abort.Payload).Message);
    }

    public static TheoryData<string, byte[]> MalformedHellos => new()
    {
        { "shorter than the 24 bytes", new byte[10] },
        { "over the limit of 256 bytes", [.. HelloPayloadOf(RawPeer.HelloFrame()), .. new byte[300]] },
        { "magic", [.. "XXXX"u8.ToArray(), .. HelloPayloadOf(RawPeer.HelloFrame())[4..]] },
        { "not positive", HelloPayloadOf(RawPeer.HelloFrame(maxFrameBytes: -1)) },
    };

    [Theory]
    [MemberData(nameof(MalformedHellos))]
    public async Task A_malformed_hello_aborts_the_connection_with_the_reason(string reason, byte[] payload)
    {
        await using var fixture = await TransportFixture.StartAsync("tcp");
        await using var peer = await RawPeer.ConnectAsync(fixture.Address, hello: false);

        await peer.SendAsync(FrameParserTests.Frame(new FrameHeader(FrameKind.Hello, 0, payload.Length, 0, 0, 0, 0), payload));

        var abort = Assert.Single(await peer.ReadUntilClosedAsync().WaitAsync(Timeout));
        Assert.Contains(reason, RawPeer.ReadError(abort.Payload).Message);
    }

    [Fact]
    public async Task Unknown_feature_bits_and_longer_hellos_from_later_versions_are_accepted()
    {
        await using var fixture = await TransportFixture.StartAsync("tcp");
        await using var peer = await RawPeer.ConnectAsync(fixture.Address, hello: false);
        byte[] payload = [.. HelloPayloadOf(RawPeer.HelloFrame(features: ulong.MaxValue)), .. new byte[40]];

        await peer.SendAsync(FrameParserTests.Frame(new FrameHeader(FrameKind.Hello, 0, payload.Length, 0, 0, 0, 0), payload));

        Assert.Equal(FrameKind.Hello, (await peer.ReadFrameAsync().WaitAsync(Timeout))!.Value.Header.Kind);
    }

    [Fact]
    public async Task A_second_hello_aborts_the_connection()
    {
        await using var fixture = await TransportFixture.StartAsync("tcp");
        await using var peer = await RawPeer.ConnectAsync(fixture.Address);

        await peer.SendAsync(RawPeer.HelloFrame());

        var abort = Assert.Single(await peer.ReadUntilClosedAsync().WaitAsync(Timeout));
        Assert.Contains("second Hello", RawPeer.ReadError(abort.Payload).Message);
    }

    [Fact]
    public async Task A_call_larger_than_the_servers_limit_fails_at_the_client_and_the_connection_goes_on()
    {
        await using var fixture = await TransportFixture.StartAsync("tcp", new RpcLimits { MaxFrameBytes = 1024 }, new RpcClientOptions());
        var service = fixture.Client.GetService<IScenarioService>();

        var error = await Assert.ThrowsAsync<RpcException>(() => service.FailAsync(new string('x', 4096)).WaitAsync(Timeout));

        Assert.Equal(RpcStatusCode.InvalidPayload, error.StatusCode);
        Assert.Contains("over the peer's limit of 1024 bytes", error.Message);
        Assert.Equal(3, await service.AddAsync(1, 2).AsTask().WaitAsync(Timeout));
    }

    [Fact]
    public async Task Connecting_to_a_unix_path_with_no_file_says_the_file_does_not_exist()
    {
        var path = Path.Combine(Path.GetTempPath(), $"rpcgen-missing-{Guid.NewGuid():N}.sock");

        var error = await Assert.ThrowsAsync<RpcException>(() => RpcClient.ConnectAsync("unix:" + path).WaitAsync(Timeout));

        Assert.Equal(RpcStatusCode.Disconnected, error.StatusCode);
        Assert.Contains($"the socket file {path} does not exist", error.Message);
    }

    private static byte[] HelloPayloadOf(byte[] frame) => frame[FrameHeader.Size..];
}
