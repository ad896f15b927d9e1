using static RpcGen.Capnp.Tests.Rpc.TestProtocol;

namespace RpcGen.Capnp.Tests.Rpc;

/// <summary>The RPC engine between two connections of this implementation, over an in-memory link.</summary>
public sealed class RpcEngineTests
{
    private static readonly TimeSpan Timeout = TimeSpan.FromSeconds(10);

    [Fact]
    public async Task Bootstrap_and_calls_return_results()
    {
        await using var pair = LoopbackPair.Create();
        using var service = pair.Client.Bootstrap();

        Assert.Equal("hello", await EchoAsync(service, "hello").WaitAsync(Timeout));
        Assert.Equal(42, await AddAsync(service, 40, 2).WaitAsync(Timeout));
    }

    [Fact]
    public async Task Calls_pipelined_on_a_returned_capability_need_no_wait()
    {
        await using var pair = LoopbackPair.Create();
        using var service = pair.Client.Bootstrap();

        using var newCounter = NewCounter(service, 10);
        using var counter = newCounter.GetPipelinedCapability((ushort)CapParams.Field("cap"));
        var first = IncrementAsync(counter);
        var second = IncrementAsync(counter);

        Assert.Equal(11ul, await first.WaitAsync(Timeout));
        Assert.Equal(12ul, await second.WaitAsync(Timeout));
    }

    [Fact]
    public async Task Chain_of_three_dependent_calls_goes_out_before_any_return()
    {
        // The server reads nothing until the client has issued all three calls, so no Return can
        // arrive early: each call is pipelined on the previous one's unreturned result.
        await using var pair = LoopbackPair.Create(startServer: false);
        var trace = new List<(bool Outbound, ushort Kind)>();
        pair.Client.Trace = (outbound, kind) =>
        {
            lock (trace)
            {
                trace.Add((outbound, kind));
            }
        };
        using var service = pair.Client.Bootstrap();

        using var first = Self(service);
        using var firstService = first.GetPipelinedCapability(0);
        using var second = Self(firstService);
        using var secondService = second.GetPipelinedCapability(0);
        var echoing = EchoAsync(secondService, "through the pipeline");
        pair.StartServer();
        var echoed = await echoing.WaitAsync(Timeout);

        Assert.Equal("through the pipeline", echoed);
        lock (trace)
        {
            var firstReturn = trace.FindIndex(t => !t.Outbound && t.Kind == RpcSchema.Message.Return);
            var callsBefore = trace.Take(firstReturn).Count(t => t.Outbound && t.Kind == RpcSchema.Message.Call);
            Assert.Equal(3, callsBefore);
        }
    }

    [Fact]
    public async Task Capability_passed_as_a_parameter_is_called_back()
    {
        await using var pair = LoopbackPair.Create();
        using var service = pair.Client.Bootstrap();
        var callbackServer = new CallbackServer(message => "got " + message);
        using (var callback = Capability.FromServer(callbackServer))
        {
            Assert.Equal("got ping", await CallBackAsync(service, callback, "ping").WaitAsync(Timeout));
        }

        // The server dropped the callback when the call completed, and we dropped ours: released.
        await callbackServer.Disposed.Task.WaitAsync(Timeout);
    }

    [Fact]
    public async Task Our_capability_sent_and_returned_is_called_locally_in_order_behind_pipelined_calls()
    {
        await using var pair = LoopbackPair.Create(startServer: false);
        var disembargoes = 0;
        pair.Client.Trace = (outbound, kind) =>
        {
            if (outbound && kind == RpcSchema.Message.Disembargo)
            {
                Interlocked.Increment(ref disembargoes);
            }
        };
        using var service = pair.Client.Bootstrap();
        var counterServer = new CounterServer(100);
        using var local = Capability.FromServer(counterServer);

        using var echoed = EchoCap(service, local);
        using var roundTripped = echoed.GetPipelinedCapability(0);
        var viaPeer = IncrementAsync(roundTripped);
        pair.StartServer();
        using (var response = await echoed.Response.WaitAsync(Timeout))
        {
        }

        // Resolved to our own counter; this call must not overtake the one still travelling through the peer.
        var direct = IncrementAsync(roundTripped);

        Assert.Equal(101ul, await viaPeer.WaitAsync(Timeout));
        Assert.Equal(102ul, await direct.WaitAsync(Timeout));
        Assert.Equal(1, Volatile.Read(ref disembargoes));
    }

    [Fact]
    public async Task Our_capability_sent_and_returned_takes_calls_made_after_the_embargo_behind_those_that_came_back()
    {
        await using var pair = LoopbackPair.Create(startServer: false);
        using var service = pair.Client.Bootstrap();
        var gated = new GatedCounterServer(100);
        using var local = Capability.FromServer(gated);

        // The peer calls our object back first; that call blocks, so what comes back after it waits here.
        var held = CallBackAsync(service, local, "hold");
        using var echoed = EchoCap(service, local);
        using var roundTripped = echoed.GetPipelinedCapability(0);
        var viaPeer = IncrementAsync(roundTripped);
        pair.StartServer();
        await roundTripped.WhenResolvedAsync().WaitAsync(Timeout);

        // The embargo has lifted: the increment has come back here and waits behind the blocked call.
        // A call made now on the same reference must wait behind it too.
        var direct = IncrementAsync(roundTripped);
        gated.Gate.Set();

        Assert.Equal("opened", await held.WaitAsync(Timeout));
        Assert.Equal(101ul, await viaPeer.WaitAsync(Timeout));
        Assert.Equal(102ul, await direct.WaitAsync(Timeout));
    }

    [Fact]
    public async Task Errors_keep_their_type_across_the_wire()
    {
        await using var pair = LoopbackPair.Create();
        using var service = pair.Client.Bootstrap();

        (ushort Kind, RpcStatusCode Status)[] cases = [(0, RpcStatusCode.Failed), (1, RpcStatusCode.Overloaded), (2, RpcStatusCode.Disconnected), (3, RpcStatusCode.Unimplemented)];
        foreach (var (kind, status) in cases)
        {
            var error = await Assert.ThrowsAsync<RpcException>(() => FailAsync(service, "boom " + kind, kind).WaitAsync(Timeout));
            Assert.Equal(status, error.StatusCode);
            Assert.Contains("boom " + kind, error.Message);
        }

        Assert.Equal("still fine", await EchoAsync(service, "still fine").WaitAsync(Timeout));
    }

    [Fact]
    public async Task Cancelling_a_call_cancels_it_at_the_callee()
    {
        await using var pair = LoopbackPair.Create();
        using var service = pair.Client.Bootstrap();
        using var cts = new CancellationTokenSource();

        using var blocked = Block(service, cts.Token);
        await pair.Service.BlockStarted.Task.WaitAsync(Timeout);
        await cts.CancelAsync();

        var error = await Assert.ThrowsAsync<RpcException>(() => blocked.Response.WaitAsync(Timeout));
        Assert.Equal(RpcStatusCode.Cancelled, error.StatusCode);
        await pair.Service.BlockCancelled.Task.WaitAsync(Timeout);
        var stats = await EventuallyAsync(() => Task.FromResult(pair.Server.GetStats()), s => s.Answers == 0);
        Assert.Equal(0, stats.Answers);
    }

    [Fact]
    public async Task Releasing_a_capability_reaches_the_object_that_implements_it()
    {
        await using var pair = LoopbackPair.Create();
        using var service = pair.Client.Bootstrap();

        using (var newCounter = NewCounter(service, 0))
        using (var response = await newCounter.Response.WaitAsync(Timeout))
        using (var counter = response.Results.ReadCapability(0)!)
        {
            Assert.Equal(1ul, await IncrementAsync(counter).WaitAsync(Timeout));
        }

        await pair.Service.CounterDestroyed.Task.WaitAsync(Timeout);
        var counterServer = new CounterServer(0);
        using (var mine = Capability.FromServer(counterServer))
        {
            await HoldAsync(service, mine).WaitAsync(Timeout);
        }

        Assert.False(counterServer.Disposed.Task.IsCompleted);
        await DropHeldAsync(service).WaitAsync(Timeout);
        await counterServer.Disposed.Task.WaitAsync(Timeout);
    }

    [Fact]
    public async Task Promise_sent_before_it_resolves_queues_calls_until_it_does()
    {
        await using var pair = LoopbackPair.Create();
        using var service = pair.Client.Bootstrap();
        var resolution = new TaskCompletionSource<Capability>(TaskCreationOptions.RunContinuationsAsynchronously);
        using var promise = Capability.FromPromise(resolution.Task);

        var reply = CallBackAsync(service, promise, "later");
        Assert.False(reply.IsCompleted);
        resolution.SetResult(Capability.FromServer(new CallbackServer(m => "resolved " + m)));

        Assert.Equal("resolved later", await reply.WaitAsync(Timeout));
    }

    [Fact]
    public async Task Losing_the_connection_fails_calls_in_flight_and_breaks_capabilities()
    {
        var pair = LoopbackPair.Create();
        using var service = pair.Client.Bootstrap();
        using var blocked = Block(service);
        await pair.Service.BlockStarted.Task.WaitAsync(Timeout);

        await pair.Server.DisposeAsync();

        var error = await Assert.ThrowsAsync<RpcException>(() => blocked.Response.WaitAsync(Timeout));
        Assert.Equal(RpcStatusCode.Disconnected, error.StatusCode);
        var later = await Assert.ThrowsAsync<RpcException>(() => EchoAsync(service, "x").WaitAsync(Timeout));
        Assert.Equal(RpcStatusCode.Disconnected, later.StatusCode);
        await pair.Client.Completion.WaitAsync(Timeout);
        await pair.Service.Disposed.Task.WaitAsync(Timeout);
        await pair.DisposeAsync();
    }

    [Fact]
    public async Task Tables_drain_when_everything_is_released()
    {
        await using var pair = LoopbackPair.Create();
        using (var service = pair.Client.Bootstrap())
        {
            Assert.Equal("x", await EchoAsync(service, "x").WaitAsync(Timeout));
            using var newCounter = NewCounter(service, 1);
            using var counter = newCounter.GetPipelinedCapability(0);
            Assert.Equal(2ul, await IncrementAsync(counter).WaitAsync(Timeout));
        }

        var client = await EventuallyAsync(() => Task.FromResult(pair.Client.GetStats()), s => s is { Questions: 0, Imports: 0 });
        var server = await EventuallyAsync(() => Task.FromResult(pair.Server.GetStats()), s => s is { Answers: 0, Exports: 0 });
        Assert.Equal(new CapnpConnectionStats(0, 0, 0, 0, 0), client);
        Assert.Equal(new CapnpConnectionStats(0, 0, 0, 0, 0), server);
    }
}
