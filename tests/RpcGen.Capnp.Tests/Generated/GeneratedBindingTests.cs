using System.IO.Pipelines;
using RpcGen.Capnp.Tests.Infrastructure;
using RpcGen.Links;

namespace RpcGen.Capnp.Tests.Generated;

/// <summary>
/// The generated Cap'n Proto binding of a plain C# contract, end to end over a real connection:
/// every field kind, promise pipelining, capabilities both ways, one-way calls, errors and
/// cancellation; and the exported schema and codec checked against the capnp tool.
/// </summary>
public sealed class GeneratedBindingTests
{
    private static readonly TimeSpan Timeout = TimeSpan.FromSeconds(30);

    public static TheoryData<string> Transports => ["memory", "tcp", "unix"];

    private static Sample FullSample() => new()
    {
        Flag = true,
        Tiny = -5,
        Octet = 250,
        Short = -30000,
        UShort = 65000,
        Int = -2_000_000_000,
        UInt = 4_000_000_000,
        Long = long.MinValue + 1,
        ULong = ulong.MaxValue - 1,
        Single = 1.5f,
        Double = -2.25,
        Text = "héllo",
        OptionalText = null,
        Data = [0, 1, 2, 255],
        Shade = Shade.Dark,
        Numbers = [1, -2, 3],
        Names = ["a", "", "ccc"],
        Bits = [true, false, true, true, false, false, false, false, true],
        Origin = new Point(3, -4),
        OptionalPoint = null,
        Path = [new Point(1, 2), new Point(3, 4)],
        Shapes = [new Shape.Circle(2), new Shape.Box(new Point(0, 0), new Point(5, 6)), new Shape.Nothing()],
        Matrix = [[1, 2], [], [3]],
        Shades = [Shade.Medium, Shade.Light],
    };

    [Theory]
    [MemberData(nameof(Transports))]
    public async Task Every_field_kind_round_trips(string transport)
    {
        await using var pair = await StorePair.StartAsync(transport);
        var sample = FullSample();

        var echoed = await pair.Store.EchoAsync(sample).WaitAsync(Timeout);

        Assert.Equivalent(sample, echoed, strict: true);
        Assert.Equal(2, await pair.Store.CountAsync([sample, new Sample()], CancellationToken.None).WaitAsync(Timeout));
    }

    [Fact]
    public async Task Defaults_and_nulls_round_trip()
    {
        await using var pair = await StorePair.StartAsync("memory");
        var empty = new Sample();

        var echoed = await pair.Store.EchoAsync(empty).WaitAsync(Timeout);

        Assert.Equivalent(empty, echoed, strict: true);
        Assert.Null(echoed.OptionalText);
        Assert.Null(echoed.OptionalPoint);
    }

    [Theory]
    [MemberData(nameof(Transports))]
    public async Task A_chain_of_three_dependent_calls_goes_out_before_any_answer(string transport)
    {
        await using var pair = await StorePair.StartAsync(transport, gated: true);
        var outboundCallsBeforeFirstReply = -1;
        var outboundCalls = 0;
        pair.Client.Trace = (outbound, kind) =>
        {
            if (outbound && kind == RpcSchema.Message.Call)
            {
                Interlocked.Increment(ref outboundCalls);
            }
            else if (!outbound)
            {
                Interlocked.CompareExchange(ref outboundCallsBeforeFirstReply, Volatile.Read(ref outboundCalls), -1);
            }
        };

        // Child returns a promise at once; the calls on it travel without waiting for it.
        var name = pair.Store.Child("a").Child("b").NameAsync();
        pair.Gate!.Open();

        Assert.Equal("a/b", await name.WaitAsync(Timeout));
        Assert.Equal(3, Volatile.Read(ref outboundCallsBeforeFirstReply));
    }

    [Fact]
    public async Task An_awaited_capability_result_is_a_usable_proxy()
    {
        await using var pair = await StorePair.StartAsync("memory");

        var child = await pair.Store.ChildAsync("x").WaitAsync(Timeout);
        var grandchild = await child.ChildAsync("y").WaitAsync(Timeout);

        Assert.IsAssignableFrom<ICapnpProxy>(grandchild);
        Assert.Equal("x/y", await grandchild.NameAsync().WaitAsync(Timeout));
        ((IDisposable)grandchild).Dispose();
        ((IDisposable)child).Dispose();
    }

    [Theory]
    [MemberData(nameof(Transports))]
    public async Task The_server_calls_a_client_hosted_callback(string transport)
    {
        await using var pair = await StorePair.StartAsync(transport);
        var visitor = new RecordingVisitor();

        Assert.Equal(2, await pair.Store.VisitAsync(visitor, ["x", "y"]).WaitAsync(Timeout));

        Assert.Equal("x", await visitor.Names.Reader.ReadAsync().AsTask().WaitAsync(Timeout));
        Assert.Equal("y", await visitor.Names.Reader.ReadAsync().AsTask().WaitAsync(Timeout));
    }

    [Fact]
    public async Task Proxies_dropped_without_dispose_release_their_references_once_collected()
    {
        await using var pair = await StorePair.StartAsync("memory");
        for (var i = 0; i < 20; i++)
        {
            // The server gets a proxy for each visitor and drops it: the client exports one per call until released.
            await pair.Store.VisitAsync(new RecordingVisitor(), []).WaitAsync(Timeout);
        }

        GC.Collect();
        GC.WaitForPendingFinalizers();

        // The releases went out before this call's answer, and the client handles messages in order.
        await pair.Store.NameAsync().WaitAsync(Timeout);
        Assert.Equal(0, pair.Client.GetStats().Exports);
    }

    [Theory]
    [MemberData(nameof(Transports))]
    public async Task The_same_object_passed_in_two_concurrent_calls_is_exported_once_and_disposed_once_after_both(string transport)
    {
        await using var pair = await StorePair.StartAsync(transport);
        var visitor = new GatedVisitor(expectedVisits: 2);

        var first = pair.Store.VisitAsync(visitor, ["a"]);
        var second = pair.Store.VisitAsync(visitor, ["b"]);
        await visitor.AllWaiting.WaitAsync(Timeout);

        // Both calls are on the server, each holding the visitor: one export, one object.
        Assert.Equal(1, pair.Client.GetStats().Exports);
        visitor.Release();
        var counts = await Task.WhenAll(first, second).WaitAsync(Timeout);
        Assert.Equal([1, 1], counts);

        // The server released the proxies its calls received as they returned, before their answers
        // (no garbage collector involved): the visitor's one export is gone, and it was disposed once.
        Assert.Equal(0, pair.Client.GetStats().Exports);
        Assert.Equal(1, visitor.Disposals);
        await pair.Store.NameAsync().WaitAsync(Timeout);
        Assert.Equal(1, visitor.Disposals);
    }

    [Fact]
    public async Task A_call_on_an_interface_the_object_does_not_implement_names_the_interface_not_a_method()
    {
        await using var pair = await StorePair.StartAsync("memory");
        var store = ((ICapnpProxy)pair.Store).Capability;
        async Task<RpcException> CallAsync(ulong interfaceId, ushort methodId)
        {
            using var request = store.NewRequest(interfaceId, methodId);
            request.InitParams(0, 0);
            using var call = request.Send();
            return await Assert.ThrowsAsync<RpcException>(() => call.Response.WaitAsync(Timeout));
        }

        var wrongInterface = await CallAsync(0x0000_0000_0000_1234, 0);
        Assert.Equal(RpcStatusCode.Unimplemented, wrongInterface.StatusCode);
        Assert.Contains("does not implement interface 0x0000000000001234 (it implements 0xd1f05e7a00000001)", wrongInterface.Message);

        var wrongMethod = await CallAsync(0xd1f0_5e7a_0000_0001, 999);
        Assert.Equal(RpcStatusCode.Unimplemented, wrongMethod.StatusCode);
        Assert.Contains("has no method 999 of interface 0xd1f05e7a00000001", wrongMethod.Message);
    }

    [Fact]
    public async Task A_one_way_call_arrives()
    {
        await using var pair = await StorePair.StartAsync("memory");
        var visitor = new RecordingVisitor();
        await pair.Store.HoldAsync(visitor).WaitAsync(Timeout);

        pair.Store.Notify("ping");

        Assert.Equal("ping", await visitor.Names.Reader.ReadAsync().AsTask().WaitAsync(Timeout));
    }

    [Fact]
    public async Task A_server_error_reaches_the_caller_and_the_connection_goes_on()
    {
        await using var pair = await StorePair.StartAsync("memory");

        var error = await Assert.ThrowsAsync<RpcException>(() => pair.Store.FailAsync("no such shelf").WaitAsync(Timeout));

        Assert.Equal(RpcStatusCode.Failed, error.StatusCode);
        Assert.Contains("no such shelf", error.Message);
        Assert.Equal(string.Empty, await pair.Store.NameAsync().WaitAsync(Timeout));
    }

    [Fact]
    public async Task Cancelling_the_caller_cancels_the_server_call()
    {
        await using var pair = await StorePair.StartAsync("memory");
        using var cancellation = new CancellationTokenSource();

        var waiting = pair.Store.WaitAsync(cancellation.Token);
        await cancellation.CancelAsync();

        await Assert.ThrowsAnyAsync<Exception>(() => waiting.WaitAsync(Timeout));
        Assert.True(await pair.Service.WhenCancelledAsync().WaitAsync(Timeout));
    }

    [Fact]
    public void A_contract_none_of_whose_methods_Capnp_can_carry_says_why_it_has_no_binding()
    {
        var error = Assert.Throws<NotSupportedException>(() => CapnpServiceRegistry.Schema<ITicker>());

        Assert.Contains("decimal", error.Message);
    }

    [Fact]
    public async Task A_method_cap_n_proto_cannot_carry_fails_with_Unimplemented_and_the_others_work()
    {
        var (clientLink, serverLink) = RpcLinks.CreateMemoryPair();
        using var bootstrap = CapnpServiceRegistry.ToCapability<IQuotes>(new QuotesService());
        await using var server = CapnpConnection.Start(serverLink, new CapnpConnectionOptions { Bootstrap = bootstrap });
        await using var client = CapnpConnection.Start(clientLink);
        var quotes = client.Bootstrap<IQuotes>();

        Assert.Equal(4.5, await quotes.PriceAsync("abc").WaitAsync(Timeout));
        Assert.Equal(3, await quotes.CountAsync().WaitAsync(Timeout));
        var local = Assert.Throws<RpcException>(() => quotes.TicksAsync(AsyncEnumerable.Range(0, 2)));
        Assert.Equal(RpcStatusCode.Unimplemented, local.StatusCode);
        Assert.Contains("'TicksAsync' is not on the Cap'n Proto binding", local.Message);

        // A peer that calls the ordinal anyway (another language's client of the exported schema) gets the same answer.
        using var request = ((ICapnpProxy)quotes).Capability.NewRequest(QuotesCapnp.InterfaceId, 1);
        request.InitParams(0, 0);
        var remote = await Assert.ThrowsAsync<RpcException>(async () => await request.Send(default).Response.WaitAsync(Timeout));
        Assert.Contains("'TicksAsync' is not on the Cap'n Proto binding", remote.Message);
    }

    [Fact]
    public async Task The_exported_schema_compiles_and_capnp_reads_the_generated_codec_the_same_way()
    {
        var schema = await CapnpTool.WriteSchemaAsync(CapnpServiceRegistry.Schema<IStore>());
        var sample = FullSample();
        byte[] written;
        using (var builder = new CapnpMessageBuilder())
        {
            StoreCapnp.Codec.WriteSample(builder.Root.InitStruct(StoreCapnp.Codec.SampleDataWords, StoreCapnp.Codec.SamplePointerCount), sample);
            written = CapnpFraming.ToArray(builder);
        }

        // capnp reads our bytes by the schema's offsets; its text, encoded again by capnp and read
        // by the generated codec, gives back the same values only if both agree on every offset.
        var text = await CapnpTool.DecodeAsync(schema, "Sample", written);
        Assert.Contains("text = \"héllo\"", text);
        Assert.Contains("shade = dark", text);
        Assert.Contains("shapes = [(circle = 2), (box = (corner = (x = 0, y = 0), size = (x = 5, y = 6))), (nothing = void)]", text);
        var encoded = await CapnpTool.EncodeAsync(schema, "Sample", text);
        var read = StoreCapnp.Codec.ReadSample(CapnpFraming.Read(encoded, null, out _).GetRoot());

        Assert.Equivalent(sample, read, strict: true);
    }

    /// <summary>A client connection with an <see cref="IStore"/> proxy, and the server connection serving a <see cref="StoreService"/>.</summary>
    private sealed class StorePair : IAsyncDisposable
    {
        private readonly List<IAsyncDisposable> _owned = [];

        public required CapnpConnection Client { get; init; }

        public required IStore Store { get; init; }

        public required StoreService Service { get; init; }

        public GatedLink? Gate { get; init; }

        public static async Task<StorePair> StartAsync(string transport, bool gated = false)
        {
            var service = new StoreService();
            if (transport == "memory")
            {
                var (clientLink, serverLink) = RpcLinks.CreateMemoryPair();
                using var bootstrap = CapnpServiceRegistry.ToCapability<IStore>(service);
                var server = CapnpConnection.Start(serverLink, new CapnpConnectionOptions { Bootstrap = bootstrap });
                var gate = gated ? new GatedLink(clientLink, clientLink) : null;
                var client = CapnpConnection.Start(gate ?? (IDuplexPipe)clientLink);
                var pair = new StorePair { Client = client, Store = client.Bootstrap<IStore>(), Service = service, Gate = gate };
                pair._owned.Add(server);
                return pair;
            }

            var address = transport == "tcp" ? "tcp://127.0.0.1:0" : "unix:" + Path.Combine(Path.GetTempPath(), $"rpcgen-store-{Guid.NewGuid():N}.sock");
            var listener = CapnpServer.Listen<IStore>(address, service);
            var link = await RpcLinks.ConnectAsync(listener.Address).AsTask().WaitAsync(Timeout);
            var linkGate = gated ? new GatedLink(link, link) : null;
            var connection = CapnpConnection.Start(linkGate ?? (IDuplexPipe)link);
            var result = new StorePair { Client = connection, Store = connection.Bootstrap<IStore>(), Service = service, Gate = linkGate };
            result._owned.Add(listener);
            return result;
        }

        public async ValueTask DisposeAsync()
        {
            Gate?.Open();
            (Store as IDisposable)?.Dispose();
            await Client.DisposeAsync();
            foreach (var owned in _owned)
            {
                await owned.DisposeAsync();
            }
        }
    }
}
