using Microsoft.Extensions.Time.Testing;
using RpcGen.Links;
using RpcGen.Transport.Flow;

namespace RpcGen.Transport.Flow.Tests;

public sealed class FlowManagerTests
{
    private static readonly TimeSpan Timeout = FlowPair.Timeout;

    private static async Task<(FlowManager Server, string Address)> StartServerAsync(FlowManagerOptions? options = null)
    {
        var server = new FlowManager(options ?? new FlowManagerOptions { Name = "server" });
        return (server, await server.ListenAsync("tcp://127.0.0.1:0"));
    }

    private static async Task<Flow> EchoOnceAsync(FlowManager client, FlowManager server, string address, string text)
    {
        var flow = await client.DialAsync(address).WaitAsync(Timeout);
        await flow.WriteMessageAsync(System.Text.Encoding.UTF8.GetBytes(text));
        var accepted = await server.AcceptAsync().AsTask().WaitAsync(Timeout);
        var message = await accepted.ReadMessageAsync().AsTask().WaitAsync(Timeout);
        await accepted.WriteMessageAndCloseAsync(new ReadOnlyMemory<byte>[] { message! });
        Assert.Equal(text, System.Text.Encoding.UTF8.GetString((await flow.ReadMessageAsync().AsTask().WaitAsync(Timeout))!));
        await accepted.DisposeAsync();
        return flow;
    }

    [Fact]
    public async Task Dials_to_one_remote_share_one_cached_connection()
    {
        var (server, address) = await StartServerAsync();
        await using var _ = server;
        await using var client = new FlowManager();
        var first = await EchoOnceAsync(client, server, address, "one");
        var second = await EchoOnceAsync(client, server, address.Replace("127.0.0.1", "localhost", StringComparison.Ordinal), "two");
        Assert.Same(first.Connection, second.Connection);
        Assert.Equal(1, client.ConnectionCount);
        Assert.Equal(1, server.ConnectionCount);
        Assert.Same(first.Connection, (await client.DialCachedAsync(address).WaitAsync(Timeout)).Connection);
    }

    [Fact]
    public async Task DialCached_without_a_cached_connection_fails_with_BadState()
    {
        var (server, address) = await StartServerAsync();
        await using var _ = server;
        await using var client = new FlowManager();
        var error = await Assert.ThrowsAsync<FlowException>(() => client.DialCachedAsync(address).WaitAsync(Timeout));
        Assert.Equal(FlowErrorCode.BadState, error.Code);
        Assert.Contains("No cached flow connection", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_server_opens_a_flow_back_over_the_connection_the_client_dialed()
    {
        var (server, address) = await StartServerAsync();
        await using var _ = server;
        await using var client = new FlowManager();
        var flow = await client.DialAsync(address).WaitAsync(Timeout);
        await flow.WriteMessageAsync("hello"u8.ToArray());
        var accepted = await server.AcceptAsync().AsTask().WaitAsync(Timeout);

        var back = accepted.Connection.OpenFlow();
        await back.WriteMessageAndCloseAsync(new ReadOnlyMemory<byte>[] { "callback"u8.ToArray() });
        var atClient = await client.AcceptAsync().AsTask().WaitAsync(Timeout);
        Assert.Same(flow.Connection, atClient.Connection);
        Assert.Equal("callback"u8.ToArray(), await atClient.ReadMessageAsync().AsTask().WaitAsync(Timeout));
        Assert.Equal(1, client.ConnectionCount);
    }

    [Fact]
    public async Task An_idle_connection_is_evicted_after_the_idle_timeout_and_a_busy_one_is_not()
    {
        var time = new FakeTimeProvider(DateTimeOffset.UtcNow);
        var (server, address) = await StartServerAsync();
        await using var _ = server;
        await using var client = new FlowManager(new FlowManagerOptions
        {
            TimeProvider = time,
            IdleTimeout = TimeSpan.FromMinutes(1),
            Limits = FlowLimits.Default with { ChannelTimeout = System.Threading.Timeout.InfiniteTimeSpan },
        });
        var busy = await client.DialAsync(address).WaitAsync(Timeout);
        await busy.WriteMessageAsync("x"u8.ToArray());
        var busyAccepted = await server.AcceptAsync().AsTask().WaitAsync(Timeout);
        var connection = busy.Connection;

        time.Advance(TimeSpan.FromMinutes(2));
        Assert.False(connection.IsClosed);
        var cached = await client.DialCachedAsync(address).WaitAsync(Timeout);
        Assert.Same(connection, cached.Connection);

        // No flow left: the next eviction pass closes it.
        await cached.DisposeAsync();
        await (await server.AcceptAsync().AsTask().WaitAsync(Timeout)).DisposeAsync();
        await busy.DisposeAsync();
        await busyAccepted.DisposeAsync();
        await connection.WhenNoFlowsAsync().WaitAsync(Timeout);
        time.Advance(TimeSpan.FromMinutes(2));
        await connection.Completion.WaitAsync(Timeout);
        Assert.Equal(FlowErrorCode.BadState, (await Assert.ThrowsAsync<FlowException>(() => client.DialCachedAsync(address).WaitAsync(Timeout))).Code);
    }

    [Fact]
    public async Task Past_the_cache_cap_the_least_recently_used_idle_connection_is_closed()
    {
        var (serverA, addressA) = await StartServerAsync();
        var (serverB, addressB) = await StartServerAsync();
        await using var a = serverA;
        await using var b = serverB;
        await using var client = new FlowManager(new FlowManagerOptions { MaxCachedConnections = 1 });
        var first = await EchoOnceAsync(client, serverA, addressA, "a");
        await first.DisposeAsync();
        await first.Connection.WhenNoFlowsAsync().WaitAsync(Timeout);
        await EchoOnceAsync(client, serverB, addressB, "b");
        await first.Connection.Completion.WaitAsync(Timeout);
        Assert.Null(await client.FindCachedAsync(addressA));
    }

    [Fact]
    public async Task A_pinned_connection_is_dialed_again_when_it_drops()
    {
        var (server, address) = await StartServerAsync();
        await using var _ = server;
        await using var client = new FlowManager();
        await using var pin = await client.PinConnectionAsync(address).WaitAsync(Timeout);
        var original = pin.Connection;
        var reconnected = pin.Reconnected;

        // The server drops the network connection.
        var flow = await client.DialAsync(address).WaitAsync(Timeout);
        await flow.WriteMessageAsync("x"u8.ToArray());
        var accepted = await server.AcceptAsync().AsTask().WaitAsync(Timeout);
        await accepted.Connection.DisposeAsync();

        var fresh = await reconnected.WaitAsync(Timeout);
        Assert.NotSame(original, fresh);
        Assert.True(original.IsClosed);
        Assert.Same(fresh, (await client.DialCachedAsync(address).WaitAsync(Timeout)).Connection);
    }

    [Fact]
    public async Task A_server_authorizer_refusing_the_client_is_NotTrusted_for_the_dialer()
    {
        var (server, address) = await StartServerAsync(new FlowManagerOptions { Name = "server", Authorizer = PeerAuthorizers.Names("alice") });
        await using var _ = server;
        await using var client = new FlowManager(new FlowManagerOptions { Name = "mallory" });
        var error = await Assert.ThrowsAsync<FlowException>(() => client.DialAsync(address).WaitAsync(Timeout));
        Assert.Equal(FlowErrorCode.NotTrusted, error.Code);

        // And the client's own authorizer refusing the server.
        await using var picky = new FlowManager(new FlowManagerOptions { Name = "alice" });
        var refused = await Assert.ThrowsAsync<FlowException>(() => picky.DialAsync(address, PeerAuthorizers.Names("bank")).WaitAsync(Timeout));
        Assert.Equal(FlowErrorCode.NotTrusted, refused.Code);
    }

    [Fact]
    public async Task Unknown_protocols_and_hosts_fail_to_resolve_and_nothing_listening_fails_to_dial()
    {
        await using var client = new FlowManager();
        Assert.Equal(FlowErrorCode.ResolveFailed, (await Assert.ThrowsAsync<FlowException>(() => client.DialAsync("carrier-pigeon:home"))).Code);
        Assert.Equal(FlowErrorCode.ResolveFailed, (await Assert.ThrowsAsync<FlowException>(() => client.DialAsync("tcp://no-such-host.invalid:80").WaitAsync(Timeout))).Code);
        var unix = $"unix:{Path.Combine(Path.GetTempPath(), $"rpcgen-flow-none-{Guid.NewGuid():N}.sock")}";
        Assert.Equal(FlowErrorCode.DialFailed, (await Assert.ThrowsAsync<FlowException>(() => client.DialAsync(unix).WaitAsync(Timeout))).Code);
    }

    [Fact]
    public async Task A_manager_listens_on_several_addresses_reports_them_and_stops()
    {
        await using var server = new FlowManager();
        var changed = server.Status.Changed;
        var tcp = await server.ListenAsync("tcp://127.0.0.1:0");
        await changed.WaitAsync(Timeout);
        var unixPath = Path.Combine(Path.GetTempPath(), $"rpcgen-flow-{Guid.NewGuid():N}.sock");
        var unix = await server.ListenAsync("unix:" + unixPath);
        var bad = "unix:" + Path.Combine(Path.GetTempPath(), $"no-dir-{Guid.NewGuid():N}", "x.sock");
        await Assert.ThrowsAsync<FlowException>(() => server.ListenAsync(bad));
        var status = server.Status;
        Assert.Equal(new[] { tcp, unix }.Order(), status.Endpoints.Order());
        Assert.True(status.ListenErrors.ContainsKey(bad));

        await using var client = new FlowManager();
        await EchoOnceAsync(client, server, unix, "over unix");
        await EchoOnceAsync(client, server, tcp, "over tcp");
        Assert.Equal(2, server.ConnectionCount);

        var stopped = server.Status.Changed;
        await server.StopListeningAsync();
        await stopped.WaitAsync(Timeout);
        Assert.Empty(server.Status.Endpoints);
    }

    [Fact]
    public async Task A_registered_protocol_carries_flows()
    {
        var name = Guid.NewGuid().ToString("N");
        await using var server = new FlowManager();
        await using var client = new FlowManager();
        foreach (var manager in new[] { server, client })
        {
            manager.RegisterProtocol("inproc", new InProcessProtocol());
        }

        var address = await server.ListenAsync("inproc:" + name);
        await EchoOnceAsync(client, server, "inproc:" + name, "custom");
        Assert.Equal("memory:" + name, address);
    }

    private sealed class InProcessProtocol : IFlowProtocol
    {
        public ValueTask<string> ResolveAsync(string address, CancellationToken cancellationToken) => ValueTask.FromResult(address);

        public ValueTask<RpcLink> DialAsync(string address, FlowProtocolContext context, CancellationToken cancellationToken) =>
            RpcLinks.ConnectAsync("memory:" + address["inproc:".Length..], cancellationToken: cancellationToken);

        public RpcLinkListener Listen(string address, FlowProtocolContext context) => RpcLinks.Listen("memory:" + address["inproc:".Length..]);
    }
}
