using System.Collections.Concurrent;

namespace RpcGen.Transport.Message.Tests;

/// <summary>Client interceptors run in order around every call, can change headers, refuse calls and see outcomes.</summary>
public class ClientInterceptorTests
{
    private static readonly TimeSpan Timeout = TransportFixture.Timeout;

    /// <summary>Logs entry and exit, and appends its name to the <c>order</c> header.</summary>
    private sealed class Tagging(string name, ConcurrentQueue<string> log) : RpcClientInterceptor
    {
        public override async ValueTask<TResponse> InterceptAsync<TRequest, TResponse>(RpcClientCallContext context, TRequest request, RpcClientContinuation<TRequest, TResponse> next)
        {
            log.Enqueue($"{name}>{context.Method.Name}");
            var order = context.RequestHeaders.GetString("order");
            context.RequestHeaders.Set("order", order is null ? name : $"{order},{name}");
            try
            {
                return await next(context, request);
            }
            finally
            {
                log.Enqueue($"<{name}");
            }
        }
    }

    /// <summary>Records how each call ended: status, exception, trailers and that a duration was measured.</summary>
    private sealed class Observing : RpcClientInterceptor
    {
        public Channel<(string Method, RpcStatusCode Status, Exception? Error, RpcMetadata Trailers, TimeSpan Elapsed)> Outcomes { get; } =
            Channel.CreateUnbounded<(string, RpcStatusCode, Exception?, RpcMetadata, TimeSpan)>();

        public override async ValueTask<TResponse> InterceptAsync<TRequest, TResponse>(RpcClientCallContext context, TRequest request, RpcClientContinuation<TRequest, TResponse> next)
        {
            try
            {
                var response = await next(context, request);
                Outcomes.Writer.TryWrite((context.Method.Name, RpcStatusCode.Ok, null, context.ResponseTrailers, context.Elapsed));
                return response;
            }
            catch (RpcException ex)
            {
                Outcomes.Writer.TryWrite((context.Method.Name, ex.StatusCode, ex, context.ResponseTrailers, context.Elapsed));
                throw;
            }
        }

        public override void OnStreamingCallEnded(RpcClientCallContext context, RpcStatusCode status, Exception? exception) =>
            Outcomes.Writer.TryWrite((context.Method.Name, status, exception, context.ResponseTrailers, context.Elapsed));
    }

    /// <summary>Refuses calls to one method without sending them, including streaming ones.</summary>
    private sealed class Refusing(string method) : RpcClientInterceptor
    {
        public override ValueTask<TResponse> InterceptAsync<TRequest, TResponse>(RpcClientCallContext context, TRequest request, RpcClientContinuation<TRequest, TResponse> next) =>
            context.Method.Name == method
                ? ValueTask.FromException<TResponse>(new RpcException(RpcStatusCode.Cancelled, $"{method} is not allowed from here."))
                : next(context, request);

        public override void OnStreamingCallStarting(RpcClientCallContext context)
        {
            if (context.Method.Name == method)
            {
                throw new RpcException(RpcStatusCode.Cancelled, $"{method} is not allowed from here.");
            }
        }
    }

    [Theory]
    [MemberData(nameof(TransportFixture.Transports), MemberType = typeof(TransportFixture))]
    public async Task Interceptors_run_in_registration_order_and_their_headers_reach_the_server(string transport)
    {
        var log = new ConcurrentQueue<string>();
        await using var fixture = await MetadataTests.Fixture.StartAsync(transport, clientOptions: new RpcClientOptions
        {
            Interceptors = { new Tagging("A", log), new Tagging("B", log) },
        });

        using (RpcMetadataScope.Begin().Add("order", "scope"))
        {
            Assert.Equal("scope,A,B", await fixture.Service.HeaderAsync("order").WaitAsync(Timeout));
        }

        Assert.Equal(["A>HeaderAsync", "B>HeaderAsync", "<B", "<A"], log);
        Assert.Equal("A,B", await fixture.Service.HeaderAsync("order").WaitAsync(Timeout));
    }

    [Fact]
    public async Task An_interceptor_that_throws_refuses_the_call_and_the_next_one_still_runs()
    {
        var log = new ConcurrentQueue<string>();
        await using var fixture = await MetadataTests.Fixture.StartAsync("tcp", clientOptions: new RpcClientOptions
        {
            Interceptors = { new Refusing("HeaderAsync"), new Tagging("inner", log) },
        });

        var error = await Assert.ThrowsAsync<RpcException>(() => fixture.Service.HeaderAsync("x").WaitAsync(Timeout));

        Assert.Equal(RpcStatusCode.Cancelled, error.StatusCode);
        Assert.Empty(log);
        Assert.Equal("", await fixture.Service.SpanAsync().WaitAsync(Timeout));
        Assert.Equal(["inner>SpanAsync", "<inner"], log);
    }

    [Fact]
    public async Task An_interceptor_observes_status_exception_trailers_and_duration()
    {
        var observing = new Observing();
        await using var fixture = await MetadataTests.Fixture.StartAsync("tcp", clientOptions: new RpcClientOptions { Interceptors = { observing } });
        using var scope = RpcMetadataScope.Begin();

        Assert.Equal(7, await fixture.Service.TrailAsync("k", "ok", 7, fail: false).WaitAsync(Timeout));
        var success = await observing.Outcomes.Reader.ReadAsync().AsTask().WaitAsync(Timeout);
        Assert.Equal(("TrailAsync", RpcStatusCode.Ok, (Exception?)null), (success.Method, success.Status, success.Error));
        Assert.Equal("ok", success.Trailers.GetString("k"));
        Assert.True(success.Elapsed > TimeSpan.Zero);
        Assert.Equal("ok", scope.ResponseTrailers.GetString("k"));

        await Assert.ThrowsAsync<RpcException>(() => fixture.Service.TrailAsync("k", "failed", 0, fail: true).WaitAsync(Timeout));
        var failure = await observing.Outcomes.Reader.ReadAsync().AsTask().WaitAsync(Timeout);
        Assert.Equal(RpcStatusCode.Failed, failure.Status);
        Assert.Equal("failed as asked", failure.Error!.Message);
        Assert.Equal("failed", failure.Trailers.GetString("k"));
    }

    [Fact]
    public async Task One_way_calls_go_through_the_pipeline_as_calls_answered_with_RpcVoid()
    {
        var log = new ConcurrentQueue<string>();
        await using var fixture = await TransportFixture.StartAsync("tcp", clientOptions: new RpcClientOptions { Interceptors = { new Tagging("A", log) } });

        fixture.Client.GetService<IScenarioService>().Notify("hello");

        Assert.Equal("hello", await fixture.Service.Notifications.Reader.ReadAsync().AsTask().WaitAsync(Timeout));
        Assert.Equal(["A>Notify", "<A"], log);
    }

    [Fact]
    public async Task Streaming_calls_report_their_start_and_outcome_and_can_be_refused()
    {
        var observing = new Observing();
        await using var fixture = await TransportFixture.StartAsync("tcp", clientOptions: new RpcClientOptions
        {
            Interceptors = { observing, new Refusing("SumAsync") },
        });
        var streaming = fixture.Client.GetService<IStreamingService>();

        var items = new List<int>();
        await foreach (var item in streaming.CountAsync(1, 3).WithCancellation(CancellationToken.None))
        {
            items.Add(item);
        }

        Assert.Equal([1, 2, 3], items);
        var counted = await observing.Outcomes.Reader.ReadAsync().AsTask().WaitAsync(Timeout);
        Assert.Equal(("CountAsync", RpcStatusCode.Ok, (Exception?)null), (counted.Method, counted.Status, counted.Error));

        var refused = await Assert.ThrowsAsync<RpcException>(() => streaming.SumAsync(Numbers()).WaitAsync(Timeout));
        Assert.Equal(RpcStatusCode.Cancelled, refused.StatusCode);
        var summed = await observing.Outcomes.Reader.ReadAsync().AsTask().WaitAsync(Timeout);
        Assert.Equal(("SumAsync", RpcStatusCode.Cancelled), (summed.Method, summed.Status));

        static async IAsyncEnumerable<int> Numbers()
        {
            yield return 1;
            await Task.CompletedTask;
        }
    }
}
