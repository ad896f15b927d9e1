namespace RpcGen.Transport.Message.Tests;

/// <summary>Every call feature, run over TCP, a Unix socket and an in-memory pipe from one scenario set.</summary>
public class CallScenarioTests
{
    private static readonly TimeSpan Timeout = TransportFixture.Timeout;

    [Theory]
    [MemberData(nameof(TransportFixture.Transports), MemberType = typeof(TransportFixture))]
    public async Task Two_way_call_round_trips_a_dto(string transport)
    {
        await using var fixture = await TransportFixture.StartAsync(transport);
        var service = fixture.Client.GetService<IScenarioService>();
        var shape = new Shape
        {
            Name = "triangle",
            Points = [new(0, 0), new(3, 0), new(0, 4)],
            Tags = new() { ["area"] = 6.0, ["perimeter"] = 12.0 },
        };

        var echoed = await service.EchoAsync(shape).WaitAsync(Timeout);

        Assert.Equal("triangle", echoed.Name);
        Assert.Equal(shape.Points, echoed.Points);
        Assert.Equal(shape.Tags, echoed.Tags);
        Assert.Equal(5, await service.AddAsync(2, 3).AsTask().WaitAsync(Timeout));
    }

    [Theory]
    [MemberData(nameof(TransportFixture.Transports), MemberType = typeof(TransportFixture))]
    public async Task One_way_calls_reach_the_server_without_a_reply(string transport)
    {
        await using var fixture = await TransportFixture.StartAsync(transport);
        var service = fixture.Client.GetService<IScenarioService>();

        service.Notify("first");
        await service.NotifyAsync("second");

        // Calls run on the thread pool, so they may start in any order, one-way ones included.
        var reader = fixture.Service.Notifications.Reader;
        string[] arrived = [await reader.ReadAsync().AsTask().WaitAsync(Timeout), await reader.ReadAsync().AsTask().WaitAsync(Timeout)];
        Assert.Equal(["first", "second"], arrived.Order());
    }

    [Theory]
    [MemberData(nameof(TransportFixture.Transports), MemberType = typeof(TransportFixture))]
    public async Task Concurrent_calls_on_one_connection_complete_out_of_order(string transport)
    {
        await using var fixture = await TransportFixture.StartAsync(transport);
        var service = fixture.Client.GetService<IScenarioService>();

        var first = service.GateAsync(1);
        var second = service.GateAsync(2);
        fixture.Service.Gate(2).SetResult(20);

        Assert.Equal(20, await second.WaitAsync(Timeout));
        Assert.False(first.IsCompleted);

        fixture.Service.Gate(1).SetResult(10);
        Assert.Equal(10, await first.WaitAsync(Timeout));

        var many = Enumerable.Range(0, 500).Select(i => service.AddAsync(i, i).AsTask()).ToArray();
        var sums = await Task.WhenAll(many).WaitAsync(Timeout);
        Assert.Equal(Enumerable.Range(0, 500).Select(i => 2 * i), sums);
    }

    [Theory]
    [MemberData(nameof(TransportFixture.Transports), MemberType = typeof(TransportFixture))]
    public async Task Cancelling_a_call_fires_the_servers_token_and_throws_OperationCanceledException(string transport)
    {
        await using var fixture = await TransportFixture.StartAsync(transport);
        var service = fixture.Client.GetService<IScenarioService>();
        using var cts = new CancellationTokenSource();

        var call = service.WaitUntilCancelledAsync("cancel", cts.Token);
        await fixture.Service.Started("cancel").WaitAsync(Timeout);
        cts.Cancel();

        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => call.WaitAsync(Timeout));
        Assert.True(await fixture.Service.ServerSawCancellation("cancel").WaitAsync(Timeout));

        // The connection is still good.
        Assert.Equal(3, await service.AddAsync(1, 2).AsTask().WaitAsync(Timeout));
    }

    [Theory]
    [MemberData(nameof(TransportFixture.Transports), MemberType = typeof(TransportFixture))]
    public async Task The_deadline_travels_to_the_server(string transport)
    {
        await using var fixture = await TransportFixture.StartAsync(transport);
        var service = fixture.Client.GetService<IScenarioService>();

        Assert.Null(await service.RemainingMillisecondsAsync().WaitAsync(Timeout));
        double? remaining;
        using (RpcDeadline.After(TimeSpan.FromMinutes(5)))
        {
            remaining = await service.RemainingMillisecondsAsync().WaitAsync(Timeout);
        }

        Assert.NotNull(remaining);
        Assert.InRange(remaining.Value, 1, TimeSpan.FromMinutes(5).TotalMilliseconds);
    }

    [Theory]
    [MemberData(nameof(TransportFixture.Transports), MemberType = typeof(TransportFixture))]
    public async Task An_expired_deadline_cancels_both_sides_and_fails_with_DeadlineExceeded(string transport)
    {
        await using var fixture = await TransportFixture.StartAsync(transport);
        var service = fixture.Client.GetService<IScenarioService>();

        Task call;
        using (RpcDeadline.After(TimeSpan.FromMilliseconds(100)))
        {
            call = service.WaitUntilCancelledAsync("deadline", CancellationToken.None);
        }

        var error = await Assert.ThrowsAsync<RpcException>(() => call.WaitAsync(Timeout));
        Assert.Equal(RpcStatusCode.DeadlineExceeded, error.StatusCode);
        Assert.True(await fixture.Service.ServerSawCancellation("deadline").WaitAsync(Timeout));
    }

    [Theory]
    [MemberData(nameof(TransportFixture.Transports), MemberType = typeof(TransportFixture))]
    public async Task A_default_timeout_applies_to_calls_outside_any_deadline_scope(string transport)
    {
        await using var fixture = await TransportFixture.StartAsync(transport);
        var client = await fixture.ConnectAsync(new RpcClientOptions { DefaultTimeout = TimeSpan.FromMilliseconds(100) });
        var service = client.GetService<IScenarioService>();

        var error = await Assert.ThrowsAsync<RpcException>(() => service.WaitUntilCancelledAsync("default-timeout", CancellationToken.None).WaitAsync(Timeout));

        Assert.Equal(RpcStatusCode.DeadlineExceeded, error.StatusCode);
    }

    [Theory]
    [MemberData(nameof(TransportFixture.Transports), MemberType = typeof(TransportFixture))]
    public async Task A_server_exception_arrives_as_RpcException_with_the_remote_message(string transport)
    {
        await using var fixture = await TransportFixture.StartAsync(transport);
        var service = fixture.Client.GetService<IScenarioService>();

        var error = await Assert.ThrowsAsync<RpcException>(() => service.FailAsync("the disk is full").WaitAsync(Timeout));

        Assert.Equal(RpcStatusCode.Failed, error.StatusCode);
        Assert.Contains("the disk is full", error.Message);
        Assert.Contains(nameof(InvalidOperationException), error.Message);
    }

    [Theory]
    [MemberData(nameof(TransportFixture.Transports), MemberType = typeof(TransportFixture))]
    public async Task A_service_the_server_does_not_serve_fails_with_Unimplemented(string transport)
    {
        await using var fixture = await TransportFixture.StartAsync(transport, serveOther: false);
        var other = fixture.Client.GetService<IOtherService>();

        var error = await Assert.ThrowsAsync<RpcException>(() => other.PingAsync("x").WaitAsync(Timeout));

        Assert.Equal(RpcStatusCode.Unimplemented, error.StatusCode);
    }

    [Theory]
    [MemberData(nameof(TransportFixture.Transports), MemberType = typeof(TransportFixture))]
    public async Task The_server_sees_the_peer_address(string transport)
    {
        await using var fixture = await TransportFixture.StartAsync(transport);
        var service = fixture.Client.GetService<IScenarioService>();

        var peer = await service.PeerAsync().WaitAsync(Timeout);

        Assert.False(string.IsNullOrEmpty(peer));
        Assert.StartsWith(transport, peer);
    }

    [Theory]
    [MemberData(nameof(TransportFixture.Transports), MemberType = typeof(TransportFixture))]
    public async Task A_disconnect_fails_every_pending_call_at_once_with_Disconnected(string transport)
    {
        await using var fixture = await TransportFixture.StartAsync(transport);
        var service = fixture.Client.GetService<IScenarioService>();
        var pending = Enumerable.Range(100, 5).Select(service.GateAsync).ToArray();
        Assert.Equal(7, await service.AddAsync(3, 4).AsTask().WaitAsync(Timeout));

        await fixture.Server.StopAsync(TimeSpan.Zero).WaitAsync(Timeout);

        foreach (var call in pending)
        {
            var error = await Assert.ThrowsAsync<RpcException>(() => call.WaitAsync(Timeout));
            Assert.Equal(RpcStatusCode.Disconnected, error.StatusCode);
        }

        var late = await Assert.ThrowsAsync<RpcException>(() => service.AddAsync(1, 1).AsTask().WaitAsync(Timeout));
        Assert.Equal(RpcStatusCode.Disconnected, late.StatusCode);
    }

    [Theory]
    [MemberData(nameof(TransportFixture.Transports), MemberType = typeof(TransportFixture))]
    public async Task Graceful_shutdown_refuses_new_calls_and_finishes_calls_in_flight(string transport)
    {
        await using var fixture = await TransportFixture.StartAsync(transport);
        var service = fixture.Client.GetService<IScenarioService>();
        var inFlight = service.GateAsync(7);
        Assert.Equal(2, await service.AddAsync(1, 1).AsTask().WaitAsync(Timeout));

        var stopping = fixture.Server.StopAsync(TimeSpan.FromSeconds(30));

        var refused = await Assert.ThrowsAsync<RpcException>(() => service.AddAsync(1, 1).AsTask().WaitAsync(Timeout));
        Assert.Equal(RpcStatusCode.Disconnected, refused.StatusCode);
        Assert.False(stopping.IsCompleted);

        fixture.Service.Gate(7).SetResult(70);
        Assert.Equal(70, await inFlight.WaitAsync(Timeout));
        await stopping.WaitAsync(Timeout);
        await Assert.ThrowsAsync<RpcException>(() => TransportFixture.ConnectToAsync(fixture.Address));
    }

    [Theory]
    [MemberData(nameof(TransportFixture.Transports), MemberType = typeof(TransportFixture))]
    public async Task Calls_over_the_concurrency_limit_fail_with_Overloaded_and_none_is_lost(string transport)
    {
        const int limit = 8;
        const int calls = 100;
        await using var fixture = await TransportFixture.StartAsync(transport, new RpcLimits { MaxConcurrentCalls = limit });
        var service = fixture.Client.GetService<IScenarioService>();

        var flood = Enumerable.Range(1000, calls).Select(service.GateAsync).ToArray();
        while (true)
        {
            // Take the snapshot before counting, so a call that fails in between is still awaited.
            var pending = flood.Where(t => !t.IsCompleted).ToArray();
            if (flood.Count(t => t.IsFaulted) >= calls - limit)
            {
                break;
            }

            await Task.WhenAny(pending).WaitAsync(Timeout);
        }

        // The server reads one connection's frames in order: the first `limit` calls are admitted,
        // every later one is refused at once, and nothing is dropped without an answer.
        Assert.All(flood.Take(limit), t => Assert.False(t.IsCompleted));
        foreach (var call in flood.Skip(limit))
        {
            var error = await Assert.ThrowsAsync<RpcException>(() => call);
            Assert.Equal(RpcStatusCode.Overloaded, error.StatusCode);
        }

        for (var id = 1000; id < 1000 + limit; id++)
        {
            fixture.Service.Gate(id).SetResult(id);
        }

        Assert.Equal(Enumerable.Range(1000, limit), await Task.WhenAll(flood.Take(limit)).WaitAsync(Timeout));
        Assert.Equal(11, await service.AddAsync(5, 6).AsTask().WaitAsync(Timeout));
    }

    [Theory]
    [MemberData(nameof(TransportFixture.Transports), MemberType = typeof(TransportFixture))]
    public async Task Payloads_over_the_frame_limit_fail_the_call_not_the_connection(string transport)
    {
        var limits = new RpcLimits { MaxFrameBytes = 64 * 1024 };
        await using var fixture = await TransportFixture.StartAsync(transport, limits, new RpcClientOptions { Limits = limits });
        var service = fixture.Client.GetService<IScenarioService>();

        var tooBigRequest = new Shape { Name = new string('x', 100_000) };
        var requestError = await Assert.ThrowsAsync<RpcException>(() => service.EchoAsync(tooBigRequest).WaitAsync(Timeout));
        Assert.Equal(RpcStatusCode.InvalidPayload, requestError.StatusCode);

        var responseError = await Assert.ThrowsAsync<RpcException>(() => service.BlobAsync(100_000).WaitAsync(Timeout));
        Assert.Equal(RpcStatusCode.InvalidPayload, responseError.StatusCode);
        Assert.Contains("MaxFrameBytes", responseError.Message);

        Assert.Equal(60_000, (await service.BlobAsync(60_000).WaitAsync(Timeout)).Length);
    }
}
