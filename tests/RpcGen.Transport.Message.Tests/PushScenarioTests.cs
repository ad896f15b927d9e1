namespace RpcGen.Transport.Message.Tests;

/// <summary>Server push: an [RpcService] argument travels by reference and the server calls back over the same connection.</summary>
public class PushScenarioTests
{
    private static readonly TimeSpan Timeout = TransportFixture.Timeout;

    private static async Task<(RpcServer Server, RpcClient Client)> StartAsync(string transport)
    {
        var server = new RpcServer(TransportFixture.ServerOptions(transport));
        server.AddService<IQuoteFeed>(new QuoteFeed());
        await server.StartAsync(TransportFixture.NewAddress(transport));
        var client = await TransportFixture.ConnectToAsync(server.Addresses[0]);
        return (server, client);
    }

    [Theory]
    [MemberData(nameof(TransportFixture.Transports), MemberType = typeof(TransportFixture))]
    public async Task The_server_calls_a_client_hosted_listener_back(string transport)
    {
        var (server, client) = await StartAsync(transport);
        await using var _ = server;
        await using var __ = client;
        var listener = new RecordingListener();

        var calls = await client.GetService<IQuoteFeed>().SubscribeAsync("ACME", 5, listener).WaitAsync(Timeout);

        Assert.Equal(5, calls);
        for (var i = 0; i < 5; i++)
        {
            var quote = await listener.Quotes.Reader.ReadAsync().AsTask().WaitAsync(Timeout);
            Assert.Equal(new Quote("ACME", 100m + i, i), quote);
        }

        Assert.Equal("done", await listener.Closed.Task.WaitAsync(Timeout));
    }

    [Theory]
    [MemberData(nameof(TransportFixture.Transports), MemberType = typeof(TransportFixture))]
    public async Task A_reference_passed_back_comes_home_as_the_original_object(string transport)
    {
        var (server, client) = await StartAsync(transport);
        await using var _ = server;
        await using var __ = client;
        var listener = new RecordingListener();

        var echoed = await client.GetService<IQuoteFeed>().EchoListenerAsync(listener).WaitAsync(Timeout);

        // The server's proxy went back as a reference to our own export: no proxy, no extra hop.
        Assert.Same(listener, echoed);
    }

    [Theory]
    [MemberData(nameof(TransportFixture.Transports), MemberType = typeof(TransportFixture))]
    public async Task A_released_reference_fails_with_a_clear_error(string transport)
    {
        var (server, client) = await StartAsync(transport);
        await using var _ = server;
        await using var __ = client;
        var feed = client.GetService<IQuoteFeed>();
        var listener = new RecordingListener();

        await feed.HoldAsync(listener).WaitAsync(Timeout);
        Assert.Null(await feed.PushAsync("A").WaitAsync(Timeout));
        await feed.ReleaseAsync().WaitAsync(Timeout);

        var error = await feed.PushAsync("B").WaitAsync(Timeout);
        Assert.NotNull(error);
        Assert.Contains("released", error);
    }

    [Theory]
    [MemberData(nameof(TransportFixture.Transports), MemberType = typeof(TransportFixture))]
    public async Task Disconnecting_ends_the_reference(string transport)
    {
        var server = new RpcServer(TransportFixture.ServerOptions(transport));
        var feed = new QuoteFeed();
        server.AddService<IQuoteFeed>(feed);
        await server.StartAsync(TransportFixture.NewAddress(transport));
        await using var _ = server;
        var client = await TransportFixture.ConnectToAsync(server.Addresses[0]);

        await client.GetService<IQuoteFeed>().HoldAsync(new RecordingListener()).WaitAsync(Timeout);
        await client.DisposeAsync();

        var error = await feed.PushAsync("gone").WaitAsync(Timeout);
        Assert.NotNull(error);
        Assert.StartsWith(nameof(RpcStatusCode.Disconnected), error);
    }

    [Theory]
    [MemberData(nameof(TransportFixture.Transports), MemberType = typeof(TransportFixture))]
    public async Task A_service_returned_directly_is_usable_at_once(string transport)
    {
        var server = new RpcServer(TransportFixture.ServerOptions(transport));
        server.AddService<ICounterFactory>(new CounterFactory());
        await server.StartAsync(TransportFixture.NewAddress(transport));
        await using var _ = server;
        await using var client = await TransportFixture.ConnectToAsync(server.Addresses[0]);

        // No await between creating the counter and calling it: the calls wait for the reference.
        var counter = client.GetService<ICounterFactory>().Create(5);
        var first = counter.IncrementAsync();
        var second = counter.IncrementAsync();

        // Like any two calls in flight at once, the two increments may run in either order.
        Assert.Equal([6, 7], (await Task.WhenAll(first, second).WaitAsync(Timeout)).Order());
        Assert.Equal(71, await counter.Scale().IncrementAsync().WaitAsync(Timeout));
        var resolved = await RpcPromise.ResolveAsync(counter).WaitAsync(Timeout);
        Assert.IsNotType<IRpcPromise<ICounter>>(resolved, exactMatch: false);
        Assert.Equal(8, await resolved.IncrementAsync().WaitAsync(Timeout));
    }

    [Theory]
    [MemberData(nameof(TransportFixture.Transports), MemberType = typeof(TransportFixture))]
    public async Task Calls_on_a_promise_whose_call_failed_fail_with_its_error(string transport)
    {
        var server = new RpcServer(TransportFixture.ServerOptions(transport));
        server.AddService<ICounterFactory>(new CounterFactory());
        await server.StartAsync(TransportFixture.NewAddress(transport));
        await using var _ = server;
        await using var client = await TransportFixture.ConnectToAsync(server.Addresses[0]);

        var counter = client.GetService<ICounterFactory>().Fail("no counters today");
        var error = await Assert.ThrowsAsync<RpcException>(() => counter.IncrementAsync().WaitAsync(Timeout));
        Assert.Equal(RpcStatusCode.Failed, error.StatusCode);
        Assert.Contains("no counters today", error.Message);
        var chained = await Assert.ThrowsAsync<RpcException>(() => counter.Scale().IncrementAsync().WaitAsync(Timeout));
        Assert.Contains("no counters today", chained.Message);
    }
}
