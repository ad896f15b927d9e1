namespace RpcGen.Soak;

/// <summary>One answer: the id of the call it answers, so a reply that reached the wrong caller shows.</summary>
public record SoakReply(long CallId, string Payload);

/// <summary>One stream item or callback: the call it belongs to and its place in that call's sequence.</summary>
public record SoakItem(long CallId, int Index);

/// <summary>The callback a client hands the server by reference for the server-push part of the soak.</summary>
[RpcService(0x50AC_0000_0000_0002)]
public interface ISoakListener
{
    [RpcMethod(1)]
    Task OnItemAsync(SoakItem item);
}

/// <summary>
/// Every call carries a unique id that its answer echoes, and the server counts how often it ran each
/// id: a wrong id in an answer is cross-talk, an id run twice is duplication, a call that never ends is loss.
/// </summary>
[RpcService(0x50AC_0000_0000_0001)]
public interface ISoakService
{
    [RpcMethod(1)]
    Task<SoakReply> EchoAsync(long callId, string payload);

    /// <summary>Answers only once <paramref name="parties"/> calls of <paramref name="phase"/> are in flight together.</summary>
    [RpcMethod(2)]
    Task<long> BarrierAsync(long callId, string phase, int parties);

    /// <summary>Never answers on its own: ends when the caller cancels or its deadline passes.</summary>
    [RpcMethod(3)]
    Task HangAsync(long callId, CancellationToken cancellationToken);

    [RpcMethod(4)]
    IAsyncEnumerable<SoakItem> RangeAsync(long callId, int count, CancellationToken cancellationToken = default);

    /// <summary>Returns how many items of <paramref name="callId"/> arrived in order, or -1 at the first stranger.</summary>
    [RpcMethod(5)]
    Task<long> CountInOrderAsync(long callId, IAsyncEnumerable<SoakItem> items, CancellationToken cancellationToken = default);

    [RpcMethod(6)]
    IAsyncEnumerable<SoakItem> EchoItemsAsync(long callId, IAsyncEnumerable<SoakItem> items, CancellationToken cancellationToken = default);

    /// <summary>Calls <paramref name="listener"/> back <paramref name="count"/> times, releases it, and returns the count.</summary>
    [RpcMethod(7)]
    Task<int> PushAsync(long callId, int count, ISoakListener listener);
}
