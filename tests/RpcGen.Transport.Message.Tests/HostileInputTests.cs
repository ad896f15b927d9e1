using System.Net;
using System.Net.Sockets;
using MessagePack;

namespace RpcGen.Transport.Message.Tests;

/// <summary>
/// A peer that breaks the protocol loses its own connection (or call) with a clear error; the
/// server keeps serving everyone else, and no call is dropped without an answer.
/// </summary>
public class HostileInputTests
{
    private const ulong ScenarioServiceId = 0x5E57_0000_0000_0001;
    private const uint AddMethodId = 2;
    private static readonly TimeSpan Timeout = TransportFixture.Timeout;

    [Fact]
    public async Task A_garbage_header_aborts_that_connection_with_a_reason_and_others_go_on()
    {
        await using var fixture = await TransportFixture.StartAsync("tcp");
        await using var attacker = await RawPeer.ConnectAsync(fixture.Address);

        await attacker.SendAsync("GET / HTTP/1.1\r\nHost: x\r\n\r\n"u8.ToArray());
        var frames = await attacker.ReadUntilClosedAsync().WaitAsync(Timeout);

        var abort = Assert.Single(frames);
        Assert.Equal(FrameKind.Abort, abort.Header.Kind);
        var (code, message) = RawPeer.ReadError(abort.Payload);
        Assert.Equal((int)RpcStatusCode.ProtocolError, code);
        Assert.Contains("magic", message);
        await fixture.Logs.WaitForAsync("magic", Timeout);
        await AssertStillServing(fixture);
    }

    [Theory]
    [InlineData("tcp")]
    [InlineData("shm")]
    public async Task A_peer_that_breaks_the_protocol_and_keeps_its_side_open_is_closed_and_others_are_served(string transport)
    {
        // The handshake timeout is what a close waiting for the peer's end of stream waits at most:
        // set far beyond the bounded waits below, a close that waits for it fails this test instead
        // of passing late.
        var limits = new RpcLimits { HandshakeTimeout = TimeSpan.FromMinutes(10) };
        await using var fixture = await TransportFixture.StartAsync(transport, limits);
        await using var attacker = transport == "shm"
            ? await RawPeer.ConnectSharedMemoryAsync(fixture.Address)
            : await RawPeer.ConnectAsync(fixture.Address);

        // A garbled frame; the attacker then neither closes its side nor stops reading.
        await attacker.SendAsync("GET / HTTP/1.1\r\nHost: x\r\n\r\n"u8.ToArray());

        Assert.Contains("magic", await attacker.ReadAbortReasonAsync(Timeout), StringComparison.Ordinal);
        // The server forgets a connection once its link is closed: only the fixture's client is left.
        await fixture.WaitUntilAsync(() => fixture.Server.ConnectionCount == 1, "the server to close the attacker's connection");
        await AssertStillServing(fixture);
    }

    [Fact]
    public async Task A_declared_length_over_the_limit_aborts_before_the_payload_is_buffered()
    {
        await using var fixture = await TransportFixture.StartAsync("tcp", new RpcLimits { MaxFrameBytes = 1024 });
        await using var attacker = await RawPeer.ConnectAsync(fixture.Address);

        // Declares 1 GiB and sends none of it: the server must not wait for, or allocate, the payload.
        var header = new byte[FrameHeader.Size];
        new FrameHeader(FrameKind.Request, 0, 1 << 30, 1, AddMethodId, ScenarioServiceId, 0).Write(header);
        await attacker.SendAsync(header);
        var frames = await attacker.ReadUntilClosedAsync().WaitAsync(Timeout);

        var (code, message) = RawPeer.ReadError(Assert.Single(frames).Payload);
        Assert.Equal((int)RpcStatusCode.ProtocolError, code);
        Assert.Contains("over the limit of 1024 bytes", message);
        await AssertStillServing(fixture);
    }

    [Fact]
    public async Task A_peer_that_disconnects_mid_frame_only_loses_its_connection()
    {
        await using var fixture = await TransportFixture.StartAsync("tcp");
        await using var attacker = await RawPeer.ConnectAsync(fixture.Address);

        var frame = FrameParserTests.Frame(new FrameHeader(FrameKind.Request, 0, 8, 1, AddMethodId, ScenarioServiceId, 0), new byte[8]);
        await attacker.SendAsync(frame[..20]);
        attacker.Close();

        await fixture.Logs.WaitForAsync("in the middle of a frame", Timeout);
        await AssertStillServing(fixture);
    }

    [Fact]
    public async Task An_unknown_method_id_fails_that_call_with_Unimplemented_and_the_connection_stays_usable()
    {
        await using var fixture = await TransportFixture.StartAsync("tcp");
        await using var peer = await RawPeer.ConnectAsync(fixture.Address);

        await peer.SendFrameAsync(FrameKind.Request, 1, 0xDEAD, ScenarioServiceId, RawPeer.AddRequest(1, 2));
        var error = await peer.ReadFrameAsync().WaitAsync(Timeout);
        Assert.Equal(FrameKind.Error, error!.Value.Header.Kind);
        Assert.Equal(1u, error.Value.Header.CallId);
        Assert.Equal((int)RpcStatusCode.Unimplemented, RawPeer.ReadError(error.Value.Payload).Code);

        await peer.SendFrameAsync(FrameKind.Request, 2, AddMethodId, ScenarioServiceId, RawPeer.AddRequest(20, 22));
        var response = await peer.ReadFrameAsync().WaitAsync(Timeout);
        Assert.Equal(FrameKind.Response, response!.Value.Header.Kind);
        Assert.Equal(2u, response.Value.Header.CallId);
        Assert.Equal(42, new MessagePackReader(response.Value.Payload).ReadInt32());
    }

    [Theory]
    [InlineData(new byte[] { 0x92, 0xA1, 0x61, 0xA1, 0x62 })] // ["a", "b"]: strings where ints belong
    [InlineData(new byte[] { 0x92, 0x01 })] // an array that promises two items and carries one
    [InlineData(new byte[] { 0xDD, 0x7F, 0xFF, 0xFF, 0xFF })] // an array claiming 2^31 items
    [InlineData(new byte[] { 0x92, 0x01, 0x02, 0x03 })] // a trailing byte after the envelope
    public async Task A_payload_that_does_not_decode_fails_that_call_with_InvalidPayload(byte[] payload)
    {
        await using var fixture = await TransportFixture.StartAsync("tcp");
        await using var peer = await RawPeer.ConnectAsync(fixture.Address);

        await peer.SendFrameAsync(FrameKind.Request, 5, AddMethodId, ScenarioServiceId, payload);
        var error = await peer.ReadFrameAsync().WaitAsync(Timeout);

        Assert.Equal(FrameKind.Error, error!.Value.Header.Kind);
        Assert.Equal(5u, error.Value.Header.CallId);
        Assert.Equal((int)RpcStatusCode.InvalidPayload, RawPeer.ReadError(error.Value.Payload).Code);
        await peer.SendFrameAsync(FrameKind.Request, 6, AddMethodId, ScenarioServiceId, RawPeer.AddRequest(1, 1));
        Assert.Equal(FrameKind.Response, (await peer.ReadFrameAsync().WaitAsync(Timeout))!.Value.Header.Kind);
    }

    [Fact]
    public async Task Reusing_a_call_id_that_is_still_running_aborts_the_connection()
    {
        await using var fixture = await TransportFixture.StartAsync("tcp");
        await using var peer = await RawPeer.ConnectAsync(fixture.Address);
        var gate = RawPeer.Pack((ref MessagePackWriter w) =>
        {
            w.WriteArrayHeader(1);
            w.Write(77);
        });

        await peer.SendFrameAsync(FrameKind.Request, 9, 7, ScenarioServiceId, gate);
        await peer.SendFrameAsync(FrameKind.Request, 9, 7, ScenarioServiceId, gate);
        var frames = await peer.ReadUntilClosedAsync().WaitAsync(Timeout);

        var abort = Assert.Single(frames, f => f.Header.Kind == FrameKind.Abort);
        Assert.Contains("reused call id 9", RawPeer.ReadError(abort.Payload).Message);
        await AssertStillServing(fixture);
    }

    [Fact]
    public async Task A_client_whose_server_sends_garbage_fails_its_calls_with_the_reason()
    {
        using var listener = new Socket(SocketType.Stream, ProtocolType.Tcp);
        listener.Bind(new IPEndPoint(IPAddress.Loopback, 0));
        listener.Listen(1);

        var (client, fakeServer) = await RawPeer.ConnectClientAsync(listener).WaitAsync(Timeout);
        await using var clientScope = client;
        await using var fakeServerScope = fakeServer;
        var service = client.GetService<IScenarioService>();

        var call = service.AddAsync(1, 2).AsTask();
        var request = await fakeServer.ReadCallFrameAsync().WaitAsync(Timeout);
        Assert.Equal(FrameKind.Request, request!.Value.Header.Kind);
        await fakeServer.SendAsync(new byte[64]);

        var error = await Assert.ThrowsAsync<RpcException>(() => call.WaitAsync(Timeout));
        Assert.Equal(RpcStatusCode.Disconnected, error.StatusCode);
        Assert.Contains("magic", error.Message);
        await client.Completion.WaitAsync(Timeout);
        Assert.Equal(RpcStatusCode.ProtocolError, client.CloseReason!.StatusCode);
    }

    [Fact]
    public Task A_response_that_does_not_decode_fails_only_that_call() =>
        AssertOneBadAnswerFailsOnlyItsCall(FrameKind.Response, new byte[] { 0xA3, 0x61, 0x62, 0x63 }, RpcStatusCode.InvalidPayload, "");

    [Fact]
    public Task An_error_whose_code_does_not_fit_an_int_fails_only_that_call_as_a_protocol_error() =>
        // Found by the message-frames fuzz harness: the code's OverflowException escaped the error
        // reader after the call had left the pending table, so the call never completed.
        AssertOneBadAnswerFailsOnlyItsCall(
            FrameKind.Error,
            RawPeer.Pack((ref MessagePackWriter w) =>
            {
                w.WriteArrayHeader(2);
                w.Write(0xCECE_CECEu);
                w.Write("boom");
            }),
            RpcStatusCode.ProtocolError,
            "malformed error");

    // A hand-played server answers the first of two calls with a bad frame and the second properly:
    // the first fails with the expected code, the second still gets its answer.
    private static async Task AssertOneBadAnswerFailsOnlyItsCall(FrameKind kind, byte[] badPayload, RpcStatusCode expected, string messagePart)
    {
        using var listener = RawPeer.Listen(out _);
        var (client, fakeServer) = await RawPeer.ConnectClientAsync(listener).WaitAsync(Timeout);
        await using var clientScope = client;
        await using var fakeServerScope = fakeServer;
        var service = client.GetService<IScenarioService>();

        var bad = service.AddAsync(1, 2).AsTask();
        var good = service.AddAsync(3, 4).AsTask();
        var first = (await fakeServer.ReadCallFrameAsync().WaitAsync(Timeout))!.Value.Header;
        var second = (await fakeServer.ReadCallFrameAsync().WaitAsync(Timeout))!.Value.Header;
        await fakeServer.SendFrameAsync(kind, first.CallId, 0, 0, badPayload);
        await fakeServer.SendFrameAsync(FrameKind.Response, second.CallId, 0, 0, RawPeer.Pack((ref MessagePackWriter w) => w.Write(7)));

        var error = await Assert.ThrowsAsync<RpcException>(() => bad.WaitAsync(Timeout));
        Assert.Equal(expected, error.StatusCode);
        Assert.Contains(messagePart, error.Message);
        Assert.Equal(7, await good.WaitAsync(Timeout));
    }

    private static async Task AssertStillServing(TransportFixture fixture)
    {
        var other = await fixture.ConnectAsync();
        Assert.Equal(9, await other.GetService<IScenarioService>().AddAsync(4, 5).AsTask().WaitAsync(Timeout));
        Assert.Equal(7, await fixture.Client.GetService<IScenarioService>().AddAsync(3, 4).AsTask().WaitAsync(Timeout));
    }
}
