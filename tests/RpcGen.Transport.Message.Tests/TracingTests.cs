using System.Diagnostics;

namespace RpcGen.Transport.Message.Tests;

/// <summary>
/// The W3C trace context travels with every call: each server span is the child of exactly the client
/// span that made the call, whatever else runs on the connection at the same time.
/// </summary>
public class TracingTests
{
    private const string Service = "RpcGen.Transport.Message.Tests.IMetadataService";
    private static readonly TimeSpan Timeout = TransportFixture.Timeout;

    [Theory]
    [MemberData(nameof(TransportFixture.Transports), MemberType = typeof(TransportFixture))]
    public async Task The_server_span_is_the_child_of_the_client_span(string transport)
    {
        using var spans = new SpanCollector();
        await using var fixture = await MetadataTests.Fixture.StartAsync(transport);

        string seen;
        Activity root;
        using (root = spans.StartRoot("caller"))
        {
            seen = await fixture.Service.SpanAsync().WaitAsync(Timeout);
            Assert.Same(root, Activity.Current);
        }

        var all = await spans.WaitForAsync(2, Timeout);
        var client = Assert.Single(all, s => s.Kind == ActivityKind.Client);
        var server = Assert.Single(all, s => s.Kind == ActivityKind.Server);
        Assert.Equal(root.SpanId, client.ParentSpanId);
        Assert.Equal(client.TraceId, server.TraceId);
        Assert.Equal(client.SpanId, server.ParentSpanId);
        Assert.Equal($"{root.TraceId}/{client.SpanId}", seen);
        Assert.Equal($"{Service}/SpanAsync", server.OperationName);
    }

    [Fact]
    public async Task Baggage_of_the_caller_reaches_the_server_span()
    {
        using var spans = new SpanCollector();
        await using var fixture = await MetadataTests.Fixture.StartAsync("tcp");

        using (var root = spans.StartRoot("caller"))
        {
            root.AddBaggage("tenant", "acme");
            await fixture.Service.SpanAsync().WaitAsync(Timeout);
        }

        var server = Assert.Single(await spans.WaitForAsync(2, Timeout), s => s.Kind == ActivityKind.Server);
        Assert.Equal("acme", server.GetBaggageItem("tenant"));
    }

    [Theory]
    [MemberData(nameof(TransportFixture.Transports), MemberType = typeof(TransportFixture))]
    public Task Concurrent_calls_with_callbacks_each_parent_exactly_their_own_spans(string transport) =>
        AssertConcurrentCallsWithCallbacksParentTheirOwnSpans(transport, RpcHandlerExecution.ThreadPool);

    [Fact]
    public Task Concurrent_calls_with_callbacks_parent_their_own_spans_with_handlers_run_inline() =>
        AssertConcurrentCallsWithCallbacksParentTheirOwnSpans("tcp", RpcHandlerExecution.Inline);

    private static async Task AssertConcurrentCallsWithCallbacksParentTheirOwnSpans(string transport, RpcHandlerExecution execution)
    {
        const int Callers = 16;
        using var spans = new SpanCollector();
        await using var fixture = await MetadataTests.Fixture.StartAsync(
            transport,
            new RpcServerOptions { HandlerExecution = execution },
            new RpcClientOptions { HandlerExecution = execution });
        var listener = new RecordingListener();

        // Each caller runs in its own trace: a call whose handler calls the caller back, then a plain
        // call on the same connection. Before the fix, inbound calls read after a handler's callback
        // took that handler's span as their parent.
        var roots = await Task.WhenAll(Enumerable.Range(0, Callers).Select(i => Task.Run(async () =>
        {
            using var root = spans.StartRoot($"caller {i}");
            await fixture.Service.CallBackAsync(listener, $"S{i}").WaitAsync(Timeout);
            await fixture.Service.SpanAsync().WaitAsync(Timeout);
            return root;
        })));

        // Per trace: client+server of CallBackAsync, client+server of the callback, client+server of SpanAsync.
        var all = await spans.WaitForAsync(Callers * 6, Timeout);
        var byId = all.ToDictionary(s => s.SpanId);
        foreach (var root in roots)
        {
            var trace = all.Where(s => s.TraceId == root.TraceId).ToList();
            Assert.Equal(6, trace.Count);
            foreach (var server in trace.Where(s => s.Kind == ActivityKind.Server))
            {
                // A server span's parent is a client span of the same method, in the same trace.
                var parent = byId[server.ParentSpanId];
                Assert.Equal(ActivityKind.Client, parent.Kind);
                Assert.Equal(server.OperationName, parent.OperationName);
            }

            var callBack = Assert.Single(trace, s => s.Kind == ActivityKind.Client && s.OperationName == $"{Service}/CallBackAsync");
            var span = Assert.Single(trace, s => s.Kind == ActivityKind.Client && s.OperationName == $"{Service}/SpanAsync");
            Assert.Equal(root.SpanId, callBack.ParentSpanId);
            Assert.Equal(root.SpanId, span.ParentSpanId);

            // The callback's client span was made by the handler of CallBackAsync, inside its server span.
            var handler = Assert.Single(trace, s => s.Kind == ActivityKind.Server && s.OperationName == $"{Service}/CallBackAsync");
            var quote = Assert.Single(trace, s => s.Kind == ActivityKind.Client && s.OperationName.EndsWith("/OnQuoteAsync", StringComparison.Ordinal));
            Assert.Equal(handler.SpanId, quote.ParentSpanId);
        }
    }
}
