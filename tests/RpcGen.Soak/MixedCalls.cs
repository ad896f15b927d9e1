using System.Collections.Concurrent;
using System.Runtime.CompilerServices;

namespace RpcGen.Soak;

/// <summary>
/// The call shapes of the mixed phase. Each checks its answer against its own request and says how
/// the call ended; the ledger counts it. The server forgets answered ids so its table stays small.
/// </summary>
public sealed class MixedCalls(SoakService server, LatencyRecorder loadedLatency)
{
    private const int StreamItems = 20;
    private const int PushItems = 5;

    // Text that compresses, longer than RpcClientOptions.CompressionThresholdBytes.
    private static readonly string LargeText = string.Concat(Enumerable.Range(0, 400).Select(i => $"item {i % 37};"));

    /// <summary>The kinds, in the order a worker cycles through them.</summary>
    public static readonly string[] Kinds = ["unary", "unary-large", "server-stream", "client-stream", "duplex", "callback", "cancel", "deadline"];

    public Task<CallOutcome> RunAsync(string kind, ISoakService proxy, long id) => kind switch
    {
        "unary" => UnaryAsync(proxy, id),
        "unary-large" => EchoAsync(proxy, id, $"{id}:{LargeText}"),
        "server-stream" => ServerStreamAsync(proxy, id),
        "client-stream" => ClientStreamAsync(proxy, id),
        "duplex" => DuplexAsync(proxy, id),
        "callback" => CallbackAsync(proxy, id),
        "cancel" => CancelAsync(proxy, id),
        "deadline" => DeadlineAsync(proxy, id),
        _ => throw new ArgumentOutOfRangeException(nameof(kind), kind, null),
    };

    /// <summary>An echo whose round trip counts toward the loaded p99.</summary>
    public Task<CallOutcome> UnaryAsync(ISoakService proxy, long id) =>
        loadedLatency.TimeAsync(() => EchoAsync(proxy, id, $"unary {id}"));

    public async Task<CallOutcome> EchoAsync(ISoakService proxy, long id, string payload)
    {
        var reply = await proxy.EchoAsync(id, payload);
        return Answered(id, reply.CallId == id && reply.Payload == payload);
    }

    private async Task<CallOutcome> ServerStreamAsync(ISoakService proxy, long id)
    {
        var next = 0;
        await foreach (var item in proxy.RangeAsync(id, StreamItems))
        {
            if (item.CallId != id || item.Index != next)
            {
                return Answered(id, false);
            }

            next++;
        }

        return Answered(id, next == StreamItems);
    }

    private async Task<CallOutcome> ClientStreamAsync(ISoakService proxy, long id)
    {
        var counted = await proxy.CountInOrderAsync(id, Items(id, StreamItems));
        return Answered(id, counted == StreamItems);
    }

    private async Task<CallOutcome> DuplexAsync(ISoakService proxy, long id)
    {
        var next = 0;
        await foreach (var item in proxy.EchoItemsAsync(id, Items(id, StreamItems)))
        {
            if (item.CallId != id || item.Index != next)
            {
                return Answered(id, false);
            }

            next++;
        }

        return Answered(id, next == StreamItems);
    }

    private async Task<CallOutcome> CallbackAsync(ISoakService proxy, long id)
    {
        var listener = new RecordingListener();
        var pushed = await proxy.PushAsync(id, PushItems, listener);

        // The server awaited each callback before answering, so every item is here by now.
        var inOrder = listener.Items.Select(item => item.Index).SequenceEqual(Enumerable.Range(0, PushItems));
        return Answered(id, pushed == PushItems && inOrder && listener.Items.All(item => item.CallId == id));
    }

    private static async Task<CallOutcome> CancelAsync(ISoakService proxy, long id)
    {
        using var cts = new CancellationTokenSource();
        var call = proxy.HangAsync(id, cts.Token);
        cts.Cancel();
        try
        {
            await call;
            return CallOutcome.CrossTalk; // a hang that answered answered someone else's call
        }
        catch (OperationCanceledException)
        {
            return CallOutcome.ProvokedFailure;
        }
        catch (RpcException ex) when (ex.StatusCode == RpcStatusCode.Cancelled)
        {
            return CallOutcome.ProvokedFailure;
        }
    }

    private static async Task<CallOutcome> DeadlineAsync(ISoakService proxy, long id)
    {
        try
        {
            using (RpcDeadline.After(TimeSpan.FromMilliseconds(20)))
            {
                await proxy.HangAsync(id, CancellationToken.None);
            }

            return CallOutcome.CrossTalk;
        }
        catch (RpcException ex) when (ex.StatusCode == RpcStatusCode.DeadlineExceeded)
        {
            return CallOutcome.ProvokedFailure;
        }
    }

    private CallOutcome Answered(long id, bool matches)
    {
        server.Forget(id);
        return matches ? CallOutcome.Ok : CallOutcome.CrossTalk;
    }

    private static async IAsyncEnumerable<SoakItem> Items(long id, int count, [EnumeratorCancellation] CancellationToken cancellationToken = default)
    {
        for (var i = 0; i < count; i++)
        {
            await Task.Yield();
            yield return new SoakItem(id, i);
        }
    }

    private sealed class RecordingListener : ISoakListener
    {
        private readonly ConcurrentQueue<SoakItem> _items = new();

        public IEnumerable<SoakItem> Items => _items;

        public Task OnItemAsync(SoakItem item)
        {
            _items.Enqueue(item);
            return Task.CompletedTask;
        }
    }
}
