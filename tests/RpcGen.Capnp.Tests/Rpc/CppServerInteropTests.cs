using RpcGen.Capnp.Tests.Infrastructure;
using RpcGen.Links;
using static RpcGen.Capnp.Tests.Rpc.TestProtocol;

namespace RpcGen.Capnp.Tests.Rpc;

/// <summary>
/// This implementation as the client, the C++ reference implementation (<c>EzRpcServer</c>) as the
/// server, over TCP and over a Unix socket.
/// </summary>
public sealed class CppServerInteropTests
{
    private static readonly TimeSpan Timeout = TimeSpan.FromSeconds(20);

    public static TheoryData<string> Transports => ["tcp", "unix"];

    [Theory]
    [MemberData(nameof(Transports))]
    public async Task Bootstrap_echo_and_add(string transport)
    {
        await using var peer = await CppServer.StartAsync(transport);
        using var service = peer.Connection.Bootstrap();

        Assert.Equal("héllo from C#", await EchoAsync(service, "héllo from C#").WaitAsync(Timeout));
        Assert.Equal(-5, await AddAsync(service, 37, -42).WaitAsync(Timeout));
    }

    [Theory]
    [MemberData(nameof(Transports))]
    public async Task Chain_of_three_dependent_calls_in_one_round_trip(string transport)
    {
        await using var peer = await CppServer.StartAsync(transport, gated: true);
        var trace = new List<(bool Outbound, ushort Kind)>();
        peer.Connection.Trace = (outbound, kind) =>
        {
            lock (trace)
            {
                trace.Add((outbound, kind));
            }
        };
        using var service = peer.Connection.Bootstrap();

        using var first = Self(service);
        using var firstService = first.GetPipelinedCapability(0);
        using var second = Self(firstService);
        using var secondService = second.GetPipelinedCapability(0);
        var echoing = EchoAsync(secondService, "chain");
        peer.OpenGate();

        Assert.Equal("chain", await echoing.WaitAsync(Timeout));
        lock (trace)
        {
            var firstInbound = trace.FindIndex(t => !t.Outbound);
            Assert.Equal(3, trace.Take(firstInbound).Count(t => t.Kind == RpcSchema.Message.Call));
        }
    }

    [Theory]
    [MemberData(nameof(Transports))]
    public async Task Calls_pipelined_on_a_returned_counter(string transport)
    {
        await using var peer = await CppServer.StartAsync(transport);
        using var service = peer.Connection.Bootstrap();

        using var newCounter = NewCounter(service, 10);
        using var counter = newCounter.GetPipelinedCapability(0);
        var first = IncrementAsync(counter);
        var second = IncrementAsync(counter);

        Assert.Equal(11ul, await first.WaitAsync(Timeout));
        Assert.Equal(12ul, await second.WaitAsync(Timeout));
    }

    [Theory]
    [MemberData(nameof(Transports))]
    public async Task Callback_capability_is_called_by_the_cpp_server_and_released(string transport)
    {
        await using var peer = await CppServer.StartAsync(transport);
        using var service = peer.Connection.Bootstrap();
        var callbackServer = new CallbackServer(m => "C# got " + m);

        using (var callback = Capability.FromServer(callbackServer))
        {
            Assert.Equal("C# got ping", await CallBackAsync(service, callback, "ping").WaitAsync(Timeout));
        }

        await callbackServer.Disposed.Task.WaitAsync(Timeout);
    }

    [Theory]
    [MemberData(nameof(Transports))]
    public async Task Promise_capability_resolves_after_the_cpp_server_called_it(string transport)
    {
        await using var peer = await CppServer.StartAsync(transport);
        using var service = peer.Connection.Bootstrap();
        var resolution = new TaskCompletionSource<Capability>(TaskCreationOptions.RunContinuationsAsynchronously);
        using var promise = Capability.FromPromise(resolution.Task);

        var reply = CallBackAsync(service, promise, "later");
        Assert.Equal("sync", await EchoAsync(service, "sync").WaitAsync(Timeout));
        Assert.False(reply.IsCompleted);
        resolution.SetResult(Capability.FromServer(new CallbackServer(m => "resolved " + m)));

        Assert.Equal("resolved later", await reply.WaitAsync(Timeout));
    }

    [Theory]
    [MemberData(nameof(Transports))]
    public async Task Our_capability_returned_by_cpp_keeps_call_order_through_the_embargo(string transport)
    {
        // Nothing from the server is read until the pipelined call is out, so it really travels
        // through the server and the Return then resolves the promise to our own counter.
        await using var peer = await CppServer.StartAsync(transport, gated: true);
        var sent = new List<ushort>();
        var received = new List<ushort>();
        peer.Connection.Trace = (outbound, kind) =>
        {
            lock (sent)
            {
                (outbound ? sent : received).Add(kind);
            }
        };
        using var service = peer.Connection.Bootstrap();
        using var local = Capability.FromServer(new CounterServer(100));

        using var echoed = EchoCap(service, local);
        using var roundTripped = echoed.GetPipelinedCapability(0);
        var viaPeer = IncrementAsync(roundTripped);
        peer.OpenGate();
        using (await echoed.Response.WaitAsync(Timeout))
        {
        }

        var direct = IncrementAsync(roundTripped);

        Assert.Equal(101ul, await viaPeer.WaitAsync(Timeout));
        Assert.Equal(102ul, await direct.WaitAsync(Timeout));
        lock (sent)
        {
            Assert.Contains(RpcSchema.Message.Disembargo, sent);
            Assert.Contains(RpcSchema.Message.Disembargo, received);
        }
    }

    [Theory]
    [MemberData(nameof(Transports))]
    public async Task Cpp_exceptions_arrive_with_their_type(string transport)
    {
        await using var peer = await CppServer.StartAsync(transport);
        using var service = peer.Connection.Bootstrap();

        (ushort Kind, RpcStatusCode Status)[] cases = [(0, RpcStatusCode.Failed), (1, RpcStatusCode.Overloaded), (2, RpcStatusCode.Disconnected), (3, RpcStatusCode.Unimplemented)];
        foreach (var (kind, status) in cases)
        {
            var error = await Assert.ThrowsAsync<RpcException>(() => FailAsync(service, "boom " + kind, kind).WaitAsync(Timeout));
            Assert.Equal(status, error.StatusCode);
            Assert.Contains("boom " + kind, error.Message);
        }
    }

    [Theory]
    [MemberData(nameof(Transports))]
    public async Task Cancelling_a_call_cancels_it_in_the_cpp_server(string transport)
    {
        await using var peer = await CppServer.StartAsync(transport);
        using var service = peer.Connection.Bootstrap();
        using var cts = new CancellationTokenSource();

        using var blocked = Block(service, cts.Token);
        await EventuallyAsync(() => StatsAsync(service), s => s.BlocksStarted == 1);
        await cts.CancelAsync();

        var error = await Assert.ThrowsAsync<RpcException>(() => blocked.Response.WaitAsync(Timeout));
        Assert.Equal(RpcStatusCode.Cancelled, error.StatusCode);
        await EventuallyAsync(() => StatsAsync(service), s => s.BlocksCancelled == 1);
    }

    [Theory]
    [MemberData(nameof(Transports))]
    public async Task Releases_reach_the_cpp_objects_and_ours(string transport)
    {
        await using var peer = await CppServer.StartAsync(transport);
        using var service = peer.Connection.Bootstrap();

        using (var newCounter = NewCounter(service, 0))
        using (var response = await newCounter.Response.WaitAsync(Timeout))
        using (var counter = response.Results.ReadCapability(0)!)
        {
            Assert.Equal(1ul, await IncrementAsync(counter).WaitAsync(Timeout));
        }

        await EventuallyAsync(() => StatsAsync(service), s => s.CountersDestroyed == 1);

        var ours = new CounterServer(0);
        using (var mine = Capability.FromServer(ours))
        {
            await HoldAsync(service, mine).WaitAsync(Timeout);
        }

        Assert.Equal("x", await EchoAsync(service, "x").WaitAsync(Timeout));
        Assert.False(ours.Disposed.Task.IsCompleted);
        await DropHeldAsync(service).WaitAsync(Timeout);
        await ours.Disposed.Task.WaitAsync(Timeout);
    }

    [Theory]
    [MemberData(nameof(Transports))]
    public async Task Tables_drain_after_a_session(string transport)
    {
        await using var peer = await CppServer.StartAsync(transport);
        using (var service = peer.Connection.Bootstrap())
        {
            using var newCounter = NewCounter(service, 5);
            using var counter = newCounter.GetPipelinedCapability(0);
            Assert.Equal(6ul, await IncrementAsync(counter).WaitAsync(Timeout));
            using var callback = Capability.FromServer(new CallbackServer(m => m ?? string.Empty));
            Assert.Equal("echo", await CallBackAsync(service, callback, "echo").WaitAsync(Timeout));
        }

        var stats = await EventuallyAsync(() => Task.FromResult(peer.Connection.GetStats()), s => s == new CapnpConnectionStats(0, 0, 0, 0, 0));
        Assert.Equal(new CapnpConnectionStats(0, 0, 0, 0, 0), stats);
    }

    [Theory]
    [MemberData(nameof(Transports))]
    public async Task Killing_the_cpp_server_fails_calls_in_flight(string transport)
    {
        await using var peer = await CppServer.StartAsync(transport);
        using var service = peer.Connection.Bootstrap();
        using var blocked = Block(service);
        await EventuallyAsync(() => StatsAsync(service), s => s.BlocksStarted == 1);

        peer.Process.Kill();

        var error = await Assert.ThrowsAsync<RpcException>(() => blocked.Response.WaitAsync(Timeout));
        Assert.Equal(RpcStatusCode.Disconnected, error.StatusCode);
        var later = await Assert.ThrowsAsync<RpcException>(() => EchoAsync(service, "x").WaitAsync(Timeout));
        Assert.Equal(RpcStatusCode.Disconnected, later.StatusCode);
        await peer.Connection.Completion.WaitAsync(Timeout);
    }

    /// <summary>A running C++ test-server and our connection to it.</summary>
    private sealed class CppServer : IAsyncDisposable
    {
        private readonly string? _socketPath;
        private readonly GatedLink? _gate;

        private CppServer(PeerProcess process, CapnpConnection connection, string? socketPath, GatedLink? gate)
        {
            Process = process;
            Connection = connection;
            _socketPath = socketPath;
            _gate = gate;
        }

        public PeerProcess Process { get; }

        public CapnpConnection Connection { get; }

        public static async Task<CppServer> StartAsync(string transport, bool gated = false)
        {
            var executable = await CppPeers.PathOfAsync("test-server");
            string? socketPath = null;
            PeerProcess process;
            string address;
            if (transport == "unix")
            {
                socketPath = Path.Combine(Path.GetTempPath(), $"rpcgen-capnp-{Guid.NewGuid():N}.sock");
                process = PeerProcess.Start(executable, "unix:" + socketPath);
                await process.WaitForLineAsync("LISTENING", Timeout);
                address = "unix:" + socketPath;
            }
            else
            {
                process = PeerProcess.Start(executable, "127.0.0.1:0");
                var line = await process.WaitForLineAsync("LISTENING", Timeout);
                address = "tcp://127.0.0.1:" + line["LISTENING ".Length..];
            }

            var link = await RpcLinks.ConnectAsync(address);
            GatedLink? gate = null;
            CapnpConnection connection;
            if (gated)
            {
                gate = new GatedLink(link, link);
                connection = CapnpConnection.Start(gate);
            }
            else
            {
                connection = CapnpConnection.Start(link);
            }

            return new CppServer(process, connection, socketPath, gate);
        }

        public void OpenGate() => _gate!.Open();

        public async ValueTask DisposeAsync()
        {
            _gate?.Open();
            await Connection.DisposeAsync();
            await Process.DisposeAsync();
            if (_socketPath is not null && File.Exists(_socketPath))
            {
                File.Delete(_socketPath);
            }
        }
    }
}
