using System.Runtime.CompilerServices;
using RpcGen.Generators.Tests.Contracts;
using RpcGen.Generators.Tests.Infrastructure;

namespace RpcGen.Generators.Tests;

/// <summary>
/// <c>[RpcService]</c> interfaces passed by reference through generated code: the peer gets a proxy that
/// calls back, a reference that comes home is the original object, and a received reference is released
/// by disposing its proxy.
/// </summary>
public class ServiceReferenceTests
{
    private static readonly TimeSpan Timeout = TimeSpan.FromSeconds(10);

    private sealed class QuoteFeed : IQuoteFeed
    {
        public List<IQuoteListener> Received { get; } = [];

        public bool Disposed { get; private set; }

        public async Task<int> SubscribeAsync(string symbol, IQuoteListener listener)
        {
            Received.Add(listener);
            for (var i = 1; i <= 3; i++)
            {
                await listener.OnQuoteAsync(new Quote(symbol, i));
            }

            listener.OnClosed($"{symbol} closed");
            return 3;
        }

        public Task<IQuoteListener> EchoAsync(IQuoteListener l)
        {
            Received.Add(l);
            return Task.FromResult(l);
        }

        public Task<IQuoteListener?> EchoNullableAsync(IQuoteListener? listener) => Task.FromResult(listener);

        public async Task<int> PublishAsync(Watchlist watchlist, Quote quote)
        {
            var calls = 0;
            foreach (var listener in watchlist.Members.Prepend(watchlist.Owner!))
            {
                await listener.OnQuoteAsync(quote with { Symbol = watchlist.Name + ":" + quote.Symbol });
                calls++;
            }

            return calls;
        }

        public async IAsyncEnumerable<IQuoteListener> EchoAllAsync(IAsyncEnumerable<IQuoteListener> listeners)
        {
            await foreach (var listener in listeners)
            {
                await listener.OnQuoteAsync(new Quote("stream", 1));
                yield return listener;
            }
        }

        public Task<IQuoteFeed> SelfAsync() => Task.FromResult<IQuoteFeed>(this);

        public ValueTask DisposeAsync()
        {
            Disposed = true;
            return default;
        }
    }

    private sealed class RecordingListener : IQuoteListener
    {
        public List<Quote> Quotes { get; } = [];

        public TaskCompletionSource<string> Closed { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);

        public Task OnQuoteAsync(Quote quote)
        {
            Quotes.Add(quote);
            return Task.CompletedTask;
        }

        public void OnClosed(string reason) => Closed.TrySetResult(reason);
    }

    private sealed record Connection(IQuoteFeed Proxy, QuoteFeed Feed, LoopbackChannel Channel, LoopbackCapabilityTable Client, LoopbackCapabilityTable Server);

    private static Connection Connect()
    {
        var (client, server) = LoopbackCapabilityTable.CreatePair();
        var feed = new QuoteFeed();
        var channel = new LoopbackChannel(RpcServiceRegistry.CreateDispatcher<IQuoteFeed>(feed), client, server);
        return new Connection(channel.GetService<IQuoteFeed>(), feed, channel, client, server);
    }

    private static CancellationToken Token => TestContext.Current.CancellationToken;

    [Fact]
    public async Task ServerCallsBackAListenerPassedAsAParameter()
    {
        var connection = Connect();
        var listener = new RecordingListener();

        var count = await connection.Proxy.SubscribeAsync("ACME", listener).WaitAsync(Timeout, Token);

        Assert.Equal(3, count);
        Assert.Equal([new Quote("ACME", 1), new Quote("ACME", 2), new Quote("ACME", 3)], listener.Quotes);
        Assert.Equal("ACME closed", await listener.Closed.Task.WaitAsync(Timeout, Token));

        // The server got a proxy for the client's object, not the object.
        var received = Assert.Single(connection.Feed.Received);
        Assert.NotSame(listener, received);
        Assert.True(RpcReference.IsRemoteReference(received));
        Assert.Equal(1, connection.Client.ExportCount);
    }

    [Fact]
    public async Task ReferenceThatComesHomeIsTheOriginalObject()
    {
        var connection = Connect();
        var listener = new RecordingListener();

        var echoed = await connection.Proxy.EchoAsync(listener).WaitAsync(Timeout, Token);

        Assert.Same(listener, echoed);
        Assert.False(RpcReference.IsRemoteReference(echoed));
    }

    [Fact]
    public async Task NullReferenceTravelsAsNull()
    {
        var connection = Connect();

        Assert.Null(await connection.Proxy.EchoNullableAsync(null).WaitAsync(Timeout, Token));
        Assert.Equal(0, connection.Client.ExportCount);
    }

    [Fact]
    public async Task ReferencesInsideADtoAndAListAreCalledBack()
    {
        var connection = Connect();
        var owner = new RecordingListener();
        var first = new RecordingListener();
        var second = new RecordingListener();

        var calls = await connection.Proxy.PublishAsync(new Watchlist("tech", owner, [first, second]), new Quote("ACME", 5)).WaitAsync(Timeout, Token);

        Assert.Equal(3, calls);
        Assert.All([owner, first, second], l => Assert.Equal(new Quote("tech:ACME", 5), Assert.Single(l.Quotes)));
    }

    [Fact]
    public async Task ReferencesTravelAsStreamItemsBothWays()
    {
        var connection = Connect();
        RecordingListener[] listeners = [new(), new()];

        var echoed = new List<IQuoteListener>();
        await foreach (var listener in connection.Proxy.EchoAllAsync(Items(listeners)).WithCancellation(Token))
        {
            echoed.Add(listener);
        }

        Assert.Equal(listeners, echoed.Cast<RecordingListener>());
        Assert.All(listeners, l => Assert.Equal(new Quote("stream", 1), Assert.Single(l.Quotes)));
    }

    [Fact]
    public async Task ServerObjectReturnedByReferenceIsCalledUntilTheProxyIsDisposed()
    {
        var connection = Connect();

        var self = await connection.Proxy.SelfAsync().WaitAsync(Timeout, Token);
        Assert.True(RpcReference.IsRemoteReference(self));
        var listener = new RecordingListener();
        Assert.Same(listener, await self.EchoAsync(listener).WaitAsync(Timeout, Token));

        await self.DisposeAsync();

        // Disposing the proxy released the server's export; the server object itself was not disposed.
        Assert.Equal([1u], connection.Server.Released);
        Assert.Equal(0, connection.Server.ExportCount);
        Assert.False(connection.Feed.Disposed);
        var error = await Assert.ThrowsAsync<RpcException>(() => self.EchoNullableAsync(null).WaitAsync(Timeout, Token));
        Assert.Equal(RpcStatusCode.Disconnected, error.StatusCode);
    }

    [Fact]
    public async Task ServerReleasesAListenerItWasGiven()
    {
        var connection = Connect();
        await connection.Proxy.SubscribeAsync("ACME", new RecordingListener()).WaitAsync(Timeout, Token);

        await RpcReference.ReleaseAsync(connection.Feed.Received[0]);

        Assert.Equal([1u], connection.Client.Released);
        await Assert.ThrowsAsync<RpcException>(() => connection.Feed.Received[0].OnQuoteAsync(new Quote("late", 0)).WaitAsync(Timeout, Token));
    }

    [Fact]
    public async Task ProxyFromGetServiceExposesItsChannelAndHasNothingToRelease()
    {
        var connection = Connect();

        Assert.Same(connection.Channel, ((IRpcProxy)connection.Proxy).Channel);
        Assert.False(RpcReference.IsRemoteReference(connection.Proxy));

        await connection.Proxy.DisposeAsync();

        // Not a remote call: the implementation's DisposeAsync did not run, and the proxy still works.
        Assert.False(connection.Feed.Disposed);
        Assert.Null(await connection.Proxy.EchoNullableAsync(null).WaitAsync(Timeout, Token));
    }

    [Fact]
    public async Task ReferenceOutsideATransportThatSupportsItFailsCleanly()
    {
        var channel = new LoopbackChannel(RpcServiceRegistry.CreateDispatcher<IQuoteFeed>(new QuoteFeed()));
        var proxy = channel.GetService<IQuoteFeed>();

        var error = await Assert.ThrowsAsync<RpcException>(() => proxy.EchoAsync(new RecordingListener()).WaitAsync(Timeout, Token));

        Assert.Equal(RpcStatusCode.InvalidPayload, error.StatusCode);
    }

    private static async IAsyncEnumerable<IQuoteListener> Items(IEnumerable<IQuoteListener> items, [EnumeratorCancellation] CancellationToken cancellationToken = default)
    {
        foreach (var item in items)
        {
            await Task.Yield();
            cancellationToken.ThrowIfCancellationRequested();
            yield return item;
        }
    }
}
