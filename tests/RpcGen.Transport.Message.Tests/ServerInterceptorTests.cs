using System.Collections.Concurrent;
using System.Diagnostics;

namespace RpcGen.Transport.Message.Tests;

/// <summary>Server interceptors run in order around every call, can change metadata, refuse calls and see outcomes.</summary>
public class ServerInterceptorTests
{
    private static readonly TimeSpan Timeout = TransportFixture.Timeout;

    public static TheoryData<RpcHandlerExecution> Executions => new() { RpcHandlerExecution.ThreadPool, RpcHandlerExecution.Inline };

    /// <summary>Logs entry and exit, upper-cases the <c>tenant</c> header on the way in, and adds a trailer on the way out.</summary>
    private sealed class Tagging(string name, ConcurrentQueue<string> log) : RpcServerInterceptor
    {
        public override async ValueTask InterceptAsync(RpcCallContext context, RpcServerContinuation next)
        {
            log.Enqueue($"{name}>{context.Method.Name}");
            if (context.RequestHeaders.GetString("tenant") is { } tenant)
            {
                context.RequestHeaders.Set("tenant", $"{tenant}+{name}");
            }

            await Task.Yield();
            try
            {
                await next(context);
            }
            finally
            {
                context.ResponseTrailers.Add($"{name.ToLowerInvariant()}-after", "yes");
                log.Enqueue($"<{name}");
            }
        }
    }

    /// <summary>Refuses calls without a <c>tenant</c> header, with a detail.</summary>
    private sealed class RequireTenant : RpcServerInterceptor
    {
        public override ValueTask InterceptAsync(RpcCallContext context, RpcServerContinuation next) =>
            context.RequestHeaders.GetString("tenant") is null
                ? throw new RpcException(RpcStatusCode.Failed, "No tenant given.") { Detail = new RpcMetadata { { "missing", "tenant" } } }
                : next(context);
    }

    /// <summary>Records each call's outcome: status, exception and duration.</summary>
    private sealed class Observing : RpcServerInterceptor
    {
        public Channel<(string Method, RpcStatusCode Status, RpcException? Error, TimeSpan Elapsed)> Outcomes { get; } =
            Channel.CreateUnbounded<(string, RpcStatusCode, RpcException?, TimeSpan)>();

        public override async ValueTask InterceptAsync(RpcCallContext context, RpcServerContinuation next)
        {
            var started = Stopwatch.GetTimestamp();
            try
            {
                await next(context);
                Outcomes.Writer.TryWrite((context.Method.Name, RpcStatusCode.Ok, null, Stopwatch.GetElapsedTime(started)));
            }
            catch (RpcException ex)
            {
                Outcomes.Writer.TryWrite((context.Method.Name, ex.StatusCode, ex, Stopwatch.GetElapsedTime(started)));
                throw;
            }
        }
    }

    /// <summary>Lets the implementation run, then replaces its answer with an error.</summary>
    private sealed class Overriding : RpcServerInterceptor
    {
        public override async ValueTask InterceptAsync(RpcCallContext context, RpcServerContinuation next)
        {
            await next(context);
            throw new RpcException(RpcStatusCode.Overloaded, "Replaced after the fact.");
        }
    }

    private static Task<MetadataTests.Fixture> StartAsync(RpcHandlerExecution execution, params RpcServerInterceptor[] interceptors)
    {
        var options = new RpcServerOptions { HandlerExecution = execution };
        foreach (var interceptor in interceptors)
        {
            options.Interceptors.Add(interceptor);
        }

        return MetadataTests.Fixture.StartAsync("tcp", options);
    }

    [Theory]
    [MemberData(nameof(Executions))]
    public async Task Interceptors_run_in_order_change_headers_and_add_trailers_after_the_implementation(RpcHandlerExecution execution)
    {
        var log = new ConcurrentQueue<string>();
        await using var fixture = await StartAsync(execution, new Tagging("A", log), new Tagging("B", log));
        using var scope = RpcMetadataScope.Begin().Add("tenant", "acme");

        Assert.Equal("acme+A+B", await fixture.Service.HeaderAsync("tenant").WaitAsync(Timeout));

        Assert.Equal(["A>HeaderAsync", "B>HeaderAsync", "<B", "<A"], log);
        Assert.Equal("yes", scope.ResponseTrailers.GetString("a-after"));
        Assert.Equal("yes", scope.ResponseTrailers.GetString("b-after"));
    }

    [Theory]
    [MemberData(nameof(Executions))]
    public async Task An_interceptor_that_throws_refuses_the_call_before_the_implementation_runs(RpcHandlerExecution execution)
    {
        var log = new ConcurrentQueue<string>();
        await using var fixture = await StartAsync(execution, new RequireTenant(), new Tagging("inner", log));

        var error = await Assert.ThrowsAsync<RpcException>(() => fixture.Service.HeaderAsync("tenant").WaitAsync(Timeout));

        Assert.Equal(RpcStatusCode.Failed, error.StatusCode);
        Assert.Equal("No tenant given.", error.Message);
        Assert.Equal("tenant", error.Detail!.GetString("missing"));
        Assert.Empty(log);

        using (RpcMetadataScope.Begin().Add("tenant", "acme"))
        {
            Assert.Equal("acme+inner", await fixture.Service.HeaderAsync("tenant").WaitAsync(Timeout));
        }
    }

    [Fact]
    public async Task An_interceptor_observes_success_failures_and_what_the_implementation_threw()
    {
        var observing = new Observing();
        await using var fixture = await StartAsync(RpcHandlerExecution.ThreadPool, observing);

        Assert.Equal(3, await fixture.Scenario.AddAsync(1, 2).AsTask().WaitAsync(Timeout));
        var success = await observing.Outcomes.Reader.ReadAsync().AsTask().WaitAsync(Timeout);
        Assert.Equal(("AddAsync", RpcStatusCode.Ok, (RpcException?)null), (success.Method, success.Status, success.Error));
        Assert.True(success.Elapsed > TimeSpan.Zero);

        await Assert.ThrowsAsync<RpcException>(() => fixture.Service.RejectAsync("quantity").WaitAsync(Timeout));
        var rejected = await observing.Outcomes.Reader.ReadAsync().AsTask().WaitAsync(Timeout);
        Assert.Equal(RpcStatusCode.Failed, rejected.Status);
        Assert.Equal("quantity", rejected.Error!.Detail!.GetString("field"));

        var thrown = await Assert.ThrowsAsync<RpcException>(() => fixture.Scenario.FailAsync("boom").WaitAsync(Timeout));
        var failed = await observing.Outcomes.Reader.ReadAsync().AsTask().WaitAsync(Timeout);
        Assert.Equal(RpcStatusCode.Failed, failed.Status);
        Assert.IsType<InvalidOperationException>(failed.Error!.InnerException);
        Assert.Equal(thrown.Message, failed.Error.Message);
    }

    [Fact]
    public async Task An_interceptor_can_replace_a_successful_answer_with_an_error()
    {
        await using var fixture = await StartAsync(RpcHandlerExecution.ThreadPool, new Overriding());

        var error = await Assert.ThrowsAsync<RpcException>(() => fixture.Scenario.AddAsync(1, 2).AsTask().WaitAsync(Timeout));

        Assert.Equal(RpcStatusCode.Overloaded, error.StatusCode);
        Assert.Equal("Replaced after the fact.", error.Message);
    }

    [Fact]
    public async Task One_way_and_streaming_calls_run_through_the_pipeline()
    {
        var observing = new Observing();
        var log = new ConcurrentQueue<string>();
        await using var fixture = await StartAsync(RpcHandlerExecution.ThreadPool, observing, new Tagging("T", log));

        fixture.Scenario.Notify("hi");
        var notified = await observing.Outcomes.Reader.ReadAsync().AsTask().WaitAsync(Timeout);
        Assert.Equal(("Notify", RpcStatusCode.Ok), (notified.Method, notified.Status));

        var items = new List<int>();
        await foreach (var item in fixture.Streaming.CountAsync(1, 3).WithCancellation(CancellationToken.None))
        {
            items.Add(item);
        }

        Assert.Equal([1, 2, 3], items);
        var counted = await observing.Outcomes.Reader.ReadAsync().AsTask().WaitAsync(Timeout);
        Assert.Equal(("CountAsync", RpcStatusCode.Ok), (counted.Method, counted.Status));

        await Assert.ThrowsAsync<RpcException>(async () =>
        {
            await foreach (var _ in fixture.Streaming.FailAfterAsync(2).WithCancellation(CancellationToken.None))
            {
            }
        });
        var failed = await observing.Outcomes.Reader.ReadAsync().AsTask().WaitAsync(Timeout);
        Assert.Equal(("FailAfterAsync", RpcStatusCode.Failed), (failed.Method, failed.Status));
        Assert.Equal(15, await fixture.Streaming.SumAsync(Numbers(5)).WaitAsync(Timeout));
        var summed = await observing.Outcomes.Reader.ReadAsync().AsTask().WaitAsync(Timeout);
        Assert.Equal(("SumAsync", RpcStatusCode.Ok), (summed.Method, summed.Status));
        Assert.Equal(["T>Notify", "<T", "T>CountAsync", "<T", "T>FailAfterAsync", "<T", "T>SumAsync", "<T"], log);

        static async IAsyncEnumerable<int> Numbers(int count)
        {
            for (var i = 1; i <= count; i++)
            {
                await Task.Yield();
                yield return i;
            }
        }
    }

    /// <summary>Calls next twice, as a retrying client interceptor would; a server runs the implementation once.</summary>
    private sealed class Twice : RpcServerInterceptor
    {
        public override async ValueTask InterceptAsync(RpcCallContext context, RpcServerContinuation next)
        {
            await next(context);
            await next(context);
        }
    }

    [Fact]
    public async Task Calling_next_twice_fails_the_call_instead_of_running_the_implementation_again()
    {
        await using var fixture = await StartAsync(RpcHandlerExecution.ThreadPool, new Twice());

        var error = await Assert.ThrowsAsync<RpcException>(() => fixture.Scenario.AddAsync(1, 2).AsTask().WaitAsync(Timeout));

        Assert.Equal(RpcStatusCode.Failed, error.StatusCode);
        Assert.Contains("called next more than once", error.Message);
    }
}
