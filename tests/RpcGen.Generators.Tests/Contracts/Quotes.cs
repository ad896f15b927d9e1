#pragma warning disable RPC0022 // message transport contract: decimal prices and a stream both ways have no Cap'n Proto form

using RpcGen;

namespace RpcGen.Generators.Tests.Contracts;

public sealed record Quote(string Symbol, decimal Price);

/// <summary>A callback the client passes to the server by reference.</summary>
[RpcService]
public interface IQuoteListener
{
    Task OnQuoteAsync(Quote quote);

    [OneWay]
    void OnClosed(string reason);
}

/// <summary>A value that holds references among its members.</summary>
public sealed record Watchlist(string Name, IQuoteListener? Owner, List<IQuoteListener> Members);

/// <summary>
/// Service references in every position: parameters, results, DTO members, collection elements and
/// stream items. It inherits <see cref="IAsyncDisposable"/>, which the proxy implements to release a
/// reference rather than as a remote call.
/// </summary>
[RpcService]
public interface IQuoteFeed : IAsyncDisposable
{
    Task<int> SubscribeAsync(string symbol, IQuoteListener listener);

    Task<IQuoteListener> EchoAsync(IQuoteListener l);

    Task<IQuoteListener?> EchoNullableAsync(IQuoteListener? listener);

    Task<int> PublishAsync(Watchlist watchlist, Quote quote);

    IAsyncEnumerable<IQuoteListener> EchoAllAsync(IAsyncEnumerable<IQuoteListener> listeners);

    Task<IQuoteFeed> SelfAsync();
}
