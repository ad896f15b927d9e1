namespace RpcGen.Transport.Message.Tests;

public record Quote(string Symbol, decimal Price, long Sequence);

/// <summary>A callback the client passes to the server by reference.</summary>
[RpcService(0x5E57_0000_0000_0003)]
public interface IQuoteListener
{
    [RpcMethod(1)]
    Task OnQuoteAsync(Quote quote);

    [RpcMethod(2)]
    [OneWay]
    void OnClosed(string reason);
}

[RpcService(0x5E57_0000_0000_0004)]
public interface IQuoteFeed
{
    /// <summary>Calls <paramref name="listener"/> back <paramref name="count"/> times, then returns how many calls it made.</summary>
    [RpcMethod(1)]
    Task<int> SubscribeAsync(string symbol, int count, IQuoteListener listener);

    /// <summary>Keeps the listener, to call it later through <see cref="PushAsync"/>.</summary>
    [RpcMethod(2)]
    Task HoldAsync(IQuoteListener listener);

    /// <summary>Calls the held listener; returns the error it got, if any.</summary>
    [RpcMethod(3)]
    Task<string?> PushAsync(string symbol);

    /// <summary>Releases the held listener.</summary>
    [RpcMethod(4)]
    Task ReleaseAsync();

    /// <summary>Returns the listener it was given: a reference round trip.</summary>
    [RpcMethod(5)]
    Task<IQuoteListener> EchoListenerAsync(IQuoteListener listener);
}

public sealed class QuoteFeed : IQuoteFeed
{
    private IQuoteListener? _held;

    public async Task<int> SubscribeAsync(string symbol, int count, IQuoteListener listener)
    {
        for (var i = 0; i < count; i++)
        {
            await listener.OnQuoteAsync(new Quote(symbol, 100m + i, i));
        }

        listener.OnClosed("done");
        return count;
    }

    public Task HoldAsync(IQuoteListener listener)
    {
        _held = listener;
        return Task.CompletedTask;
    }

    public async Task<string?> PushAsync(string symbol)
    {
        try
        {
            await _held!.OnQuoteAsync(new Quote(symbol, 1m, 0));
            return null;
        }
        catch (RpcException ex)
        {
            return $"{ex.StatusCode}: {ex.Message}";
        }
    }

    public async Task ReleaseAsync()
    {
        await RpcReference.ReleaseAsync(_held!);
    }

    public Task<IQuoteListener> EchoListenerAsync(IQuoteListener listener) => Task.FromResult(listener);
}

public sealed class RecordingListener : IQuoteListener
{
    public Channel<Quote> Quotes { get; } = Channel.CreateUnbounded<Quote>();

    public TaskCompletionSource<string> Closed { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);

    public Task OnQuoteAsync(Quote quote)
    {
        Quotes.Writer.TryWrite(quote);
        return Task.CompletedTask;
    }

    public void OnClosed(string reason) => Closed.TrySetResult(reason);
}

/// <summary>Methods that return services directly: the caller gets promises at once.</summary>
[RpcService(0x5E57_0000_0000_0005)]
public interface ICounterFactory
{
    [RpcMethod(1)]
    ICounter Create(int start);

    /// <summary>Throws instead of returning a counter.</summary>
    [RpcMethod(2)]
    ICounter Fail(string reason);
}

[RpcService(0x5E57_0000_0000_0006)]
public interface ICounter
{
    [RpcMethod(1)]
    Task<int> IncrementAsync();

    /// <summary>A new counter starting where this one is, times ten.</summary>
    [RpcMethod(2)]
    ICounter Scale();
}

public sealed class CounterFactory : ICounterFactory
{
    public ICounter Create(int start) => new Counter(start);

    public ICounter Fail(string reason) => throw new RpcException(RpcStatusCode.Failed, reason);
}

public sealed class Counter(int start) : ICounter
{
    private int _value = start;

    public Task<int> IncrementAsync() => Task.FromResult(Interlocked.Increment(ref _value));

    public ICounter Scale() => new Counter(Volatile.Read(ref _value) * 10);
}
