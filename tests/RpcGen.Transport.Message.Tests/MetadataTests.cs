using MessagePack;

namespace RpcGen.Transport.Message.Tests;

/// <summary>Request headers, response trailers and error details travel with calls, within their limits.</summary>
public class MetadataTests
{
    private const ulong MetadataServiceId = 0x5E57_0000_0000_0020;
    private static readonly TimeSpan Timeout = TransportFixture.Timeout;

    /// <summary>A server with <see cref="MetadataService"/>, <see cref="QuoteFeed"/>, <see cref="ScenarioService"/> and <see cref="StreamingService"/>, and one client.</summary>
    internal sealed class Fixture : IAsyncDisposable
    {
        public required RpcServer Server { get; init; }

        public required RpcClient Client { get; init; }

        public IMetadataService Service => Client.GetService<IMetadataService>();

        public IScenarioService Scenario => Client.GetService<IScenarioService>();

        public IStreamingService Streaming => Client.GetService<IStreamingService>();

        public static async Task<Fixture> StartAsync(string transport, RpcServerOptions? serverOptions = null, RpcClientOptions? clientOptions = null)
        {
            var server = new RpcServer(TransportFixture.ServerOptions(transport, serverOptions));
            server.AddService<IMetadataService>(new MetadataService());
            server.AddService<IQuoteFeed>(new QuoteFeed());
            server.AddService<IScenarioService>(new ScenarioService());
            server.AddService<IStreamingService>(new StreamingService());
            await server.StartAsync(TransportFixture.NewAddress(transport));
            var client = await TransportFixture.ConnectToAsync(server.Addresses[0], clientOptions);
            return new Fixture { Server = server, Client = client };
        }

        public async ValueTask DisposeAsync()
        {
            await Client.DisposeAsync();
            await Server.StopAsync(TimeSpan.FromSeconds(5)).WaitAsync(Timeout);
        }
    }

    [Theory]
    [MemberData(nameof(TransportFixture.Transports), MemberType = typeof(TransportFixture))]
    public async Task Text_and_binary_headers_reach_the_server(string transport)
    {
        await using var fixture = await Fixture.StartAsync(transport);
        using var scope = RpcMetadataScope.Begin().Add("tenant", "acme").Add("token-bin", new byte[] { 0, 255, 7 });

        Assert.Equal("acme", await fixture.Service.HeaderAsync("tenant").WaitAsync(Timeout));
        Assert.Equal(new byte[] { 0, 255, 7 }, await fixture.Service.BinaryHeaderAsync("Token-Bin").WaitAsync(Timeout));
    }

    [Fact]
    public async Task Calls_outside_a_scope_send_no_headers_and_a_nested_scope_adds_to_the_outer()
    {
        await using var fixture = await Fixture.StartAsync("tcp");

        Assert.Null(await fixture.Service.HeaderAsync("tenant").WaitAsync(Timeout));
        using (RpcMetadataScope.Begin().Add("tenant", "acme"))
        {
            using (RpcMetadataScope.Begin().Add("user", "ada"))
            {
                Assert.Equal("acme", await fixture.Service.HeaderAsync("tenant").WaitAsync(Timeout));
                Assert.Equal("ada", await fixture.Service.HeaderAsync("user").WaitAsync(Timeout));
            }

            Assert.Null(await fixture.Service.HeaderAsync("user").WaitAsync(Timeout));
        }

        Assert.Null(await fixture.Service.HeaderAsync("tenant").WaitAsync(Timeout));
    }

    [Theory]
    [MemberData(nameof(TransportFixture.Transports), MemberType = typeof(TransportFixture))]
    public async Task Trailers_come_back_with_a_response_and_with_an_error(string transport)
    {
        await using var fixture = await Fixture.StartAsync(transport);
        using var scope = RpcMetadataScope.Begin();

        Assert.Equal(42, await fixture.Service.TrailAsync("server-version", "1.2", 42, fail: false).WaitAsync(Timeout));
        Assert.Equal("1.2", scope.ResponseTrailers.GetString("server-version"));

        var error = await Assert.ThrowsAsync<RpcException>(() => fixture.Service.TrailAsync("retry-after", "5", 0, fail: true).WaitAsync(Timeout));
        Assert.Equal(RpcStatusCode.Failed, error.StatusCode);
        Assert.Equal("5", scope.ResponseTrailers.GetString("retry-after"));
        Assert.Null(scope.ResponseTrailers.GetString("server-version"));

        Assert.Equal("", await fixture.Service.SpanAsync().WaitAsync(Timeout));
        Assert.Empty(scope.ResponseTrailers);
    }

    [Fact]
    public async Task On_the_wire_metadata_frames_come_just_before_the_request_and_the_response_of_their_call()
    {
        using var listener = RawPeer.Listen(out _);
        var (client, fakeServer) = await RawPeer.ConnectClientAsync(listener).WaitAsync(Timeout);
        await using var clientScope = client;
        await using var fakeServerScope = fakeServer;
        using var scope = RpcMetadataScope.Begin().Add("tenant", "acme").Add("key-bin", new byte[] { 9 });

        var call = client.GetService<IScenarioService>().AddAsync(1, 2).AsTask();
        var metadata = (await fakeServer.ReadFrameAsync().WaitAsync(Timeout))!.Value;
        var request = (await fakeServer.ReadFrameAsync().WaitAsync(Timeout))!.Value;

        Assert.Equal(FrameKind.Metadata, metadata.Header.Kind);
        Assert.Equal(0, metadata.Header.Flags);
        Assert.Equal(FrameKind.Request, request.Header.Kind);
        Assert.Equal(request.Header.CallId, metadata.Header.CallId);
        var reader = new MessagePackReader(metadata.Payload);
        var items = reader.ReadArrayHeader();
        var entries = new Dictionary<string, object>();
        for (var i = 0; i < items; i += 2)
        {
            var key = reader.ReadString()!;
            entries[key] = reader.NextMessagePackType == MessagePackType.Binary ? (object)System.Buffers.BuffersExtensions.ToArray(reader.ReadBytes()!.Value) : reader.ReadString()!;
        }

        Assert.Equal("acme", entries["tenant"]);
        Assert.Equal(new byte[] { 9 }, entries["key-bin"]);

        var trailers = RawPeer.Pack((ref MessagePackWriter w) =>
        {
            w.WriteArrayHeader(2);
            w.Write("served-by");
            w.Write("fake");
        });
        await fakeServer.SendAsync(FrameParserTests.Frame(new FrameHeader(FrameKind.Metadata, 0, trailers.Length, request.Header.CallId, 0, 0, 0), trailers)
            .Concat(FrameParserTests.Frame(new FrameHeader(FrameKind.Response, 0, 1, request.Header.CallId, 0, 0, 0), [3])).ToArray());

        Assert.Equal(3, await call.WaitAsync(Timeout));
        Assert.Equal("fake", scope.ResponseTrailers.GetString("served-by"));
    }

    [Fact]
    public async Task Headers_over_the_limits_fail_the_call_before_it_is_sent()
    {
        var limits = new RpcLimits { MaxMetadataEntries = 4, MaxMetadataBytes = 512 };
        await using var fixture = await Fixture.StartAsync("tcp", clientOptions: new RpcClientOptions { Limits = limits });

        using (var scope = RpcMetadataScope.Begin())
        {
            for (var i = 0; i < 5; i++)
            {
                scope.Add($"k{i}", "v");
            }

            var error = await Assert.ThrowsAsync<RpcException>(() => fixture.Service.HeaderAsync("k0").WaitAsync(Timeout));
            Assert.Equal(RpcStatusCode.InvalidPayload, error.StatusCode);
            Assert.Contains("MaxMetadataEntries", error.Message);
        }

        using (RpcMetadataScope.Begin().Add("big", new string('x', 600)))
        {
            var error = await Assert.ThrowsAsync<RpcException>(() => fixture.Service.HeaderAsync("big").WaitAsync(Timeout));
            Assert.Equal(RpcStatusCode.InvalidPayload, error.StatusCode);
            Assert.Contains("MaxMetadataBytes", error.Message);
        }

        // The connection is fine: the refused calls never left.
        Assert.Null(await fixture.Service.HeaderAsync("big").WaitAsync(Timeout));
    }

    [Fact]
    public async Task Trailers_over_the_server_limit_turn_the_answer_into_an_error()
    {
        await using var fixture = await Fixture.StartAsync("tcp", new RpcServerOptions { Limits = new RpcLimits { MaxMetadataBytes = 512 } });

        var error = await Assert.ThrowsAsync<RpcException>(() => fixture.Service.LargeTrailerAsync(600).WaitAsync(Timeout));

        Assert.Equal(RpcStatusCode.InvalidPayload, error.StatusCode);
        Assert.Contains("response trailers", error.Message);
        Assert.Equal(10, await fixture.Service.LargeTrailerAsync(10).WaitAsync(Timeout));
    }

    [Fact]
    public async Task A_peer_whose_headers_exceed_the_receivers_limit_loses_its_connection()
    {
        // The client allows more than the server: the server aborts the connection, and the call fails.
        await using var fixture = await Fixture.StartAsync(
            "tcp",
            new RpcServerOptions { Limits = new RpcLimits { MaxMetadataEntries = 2 } },
            new RpcClientOptions { Limits = new RpcLimits { MaxMetadataEntries = 8 } });
        using var scope = RpcMetadataScope.Begin().Add("a", "1").Add("b", "2").Add("c", "3");

        var error = await Assert.ThrowsAsync<RpcException>(() => fixture.Service.HeaderAsync("a").WaitAsync(Timeout));

        Assert.Equal(RpcStatusCode.Disconnected, error.StatusCode);
        Assert.Contains("MaxMetadataEntries", error.Message);
    }

    [Fact]
    public async Task An_error_detail_set_by_the_server_reaches_the_caller()
    {
        await using var fixture = await Fixture.StartAsync("tcp");

        var error = await Assert.ThrowsAsync<RpcException>(() => fixture.Service.RejectAsync("quantity").WaitAsync(Timeout));

        Assert.Equal(RpcStatusCode.Failed, error.StatusCode);
        Assert.Equal("rejected", error.Message);
        Assert.Equal("quantity", error.Detail!.GetString("field"));
        Assert.Equal(new byte[] { 1, 2, 3 }, error.Detail.GetBytes("code-bin")!.Value.ToArray());
    }

    [Fact]
    public async Task Unimplemented_names_the_service_or_says_no_service_has_the_id()
    {
        await using var fixture = await TransportFixture.StartAsync("tcp");

        // IMetadataService is not served by the scenario server.
        var unknownService = await Assert.ThrowsAsync<RpcException>(() => fixture.Client.GetService<IMetadataService>().SpanAsync().WaitAsync(Timeout));
        Assert.Equal(RpcStatusCode.Unimplemented, unknownService.StatusCode);
        Assert.Contains($"No service with id 0x{MetadataServiceId:x16} is served here", unknownService.Message);
        Assert.Contains("method 0x00000005", unknownService.Message);

        await using var peer = await RawPeer.ConnectAsync(fixture.Address);
        await peer.SendFrameAsync(FrameKind.Request, 1, 0xDEAD, 0x5E57_0000_0000_0001, RawPeer.Pack((ref MessagePackWriter w) => w.WriteArrayHeader(0)));
        var error = await peer.ReadFrameAsync().WaitAsync(Timeout);
        var (code, message) = RawPeer.ReadError(error!.Value.Payload);
        Assert.Equal((int)RpcStatusCode.Unimplemented, code);
        Assert.Contains("Service RpcGen.Transport.Message.Tests.IScenarioService (0x5e57000000000001) has no method with id 0x0000dead", message);
    }
}
