namespace RpcGen.Transport.SharedMemory.Tests;

/// <summary>The message protocol over <c>shm:</c> between this process and the test host process.</summary>
public sealed class CrossProcessTests() : HostedProcessTests("shm")
{
    /// <summary><paramref name="count"/> concurrent callers, each making <paramref name="calls"/> calls in turn and checking every answer.</summary>
    private static IEnumerable<Task> Callers(IShmService service, int count, int calls) =>
        Enumerable.Range(0, count).Select(caller => Task.Run(async () =>
        {
            for (var i = 0; i < calls; i++)
            {
                Assert.Equal(caller * 1000 + i, await service.AddAsync(caller * 1000, i));
            }
        })).ToList();

    [Fact]
    public async Task Calls_reach_the_other_process_and_answer()
    {
        await using var client = await RpcClient.ConnectAsync(_host.Address).WaitAsync(s_timeout);
        var service = client.GetService<IShmService>();

        Assert.Equal(5, await service.AddAsync(2, 3).WaitAsync(s_timeout));
        Assert.NotEqual(Environment.ProcessId, await service.ProcessIdAsync().WaitAsync(s_timeout));
    }

    [Fact]
    public async Task The_server_calls_back_into_the_client()
    {
        await using var client = await RpcClient.ConnectAsync(_host.Address).WaitAsync(s_timeout);
        var doubler = new Doubler();

        var sum = await client.GetService<IShmService>().CallBackAsync(doubler, 100).WaitAsync(s_timeout);

        Assert.Equal(2L * (99 * 100 / 2), sum);
        Assert.Equal(100, doubler.Calls);
    }

    [Fact]
    public async Task Streams_flow_both_ways()
    {
        await using var client = await RpcClient.ConnectAsync(_host.Address).WaitAsync(s_timeout);
        var service = client.GetService<IShmService>();
        using var cts = new CancellationTokenSource(s_timeout);

        var received = new List<int>();
        await foreach (var value in service.CountAsync(1000).WithCancellation(cts.Token))
        {
            received.Add(value);
        }

        Assert.Equal(Enumerable.Range(0, 1000), received);
        Assert.Equal(999L * 1000 / 2, await service.SumAsync(Produce(1000)).WaitAsync(s_timeout));
    }

    [Theory]
    [InlineData(1)]
    [InlineData(64 * 1024)]
    [InlineData(3 * 1024 * 1024)]
    public async Task Messages_larger_than_a_window_cross_in_many_hand_offs(int size)
    {
        await using var client = await RpcClient.ConnectAsync(_host.Address).WaitAsync(s_timeout);
        var data = new byte[size];
        new Random(size).NextBytes(data);

        var echoed = await client.GetService<IShmService>().EchoAsync(data).WaitAsync(s_timeout);

        Assert.Equal(data, echoed);
    }

    [Fact]
    public async Task Sixty_four_concurrent_callers_all_get_their_own_answer()
    {
        await using var client = await RpcClient.ConnectAsync(_host.Address).WaitAsync(s_timeout);
        var service = client.GetService<IShmService>();

        await Task.WhenAll(Callers(service, 64, 50)).WaitAsync(s_timeout);
    }

    [Fact]
    public async Task Frames_from_many_writers_at_once_keep_each_writers_order()
    {
        await using var client = await RpcClient.ConnectAsync(_host.Address).WaitAsync(s_timeout);
        var service = client.GetService<IShmService>();

        // Sixteen server streams write their items while sixteen callers' answers are written too:
        // a writer finds the link now free (it drains the outbox itself), now busy (its frame waits
        // in the queue for the drainer ahead). Every stream's items arrive in order.
        var streams = Enumerable.Range(0, 16).Select(_ => Task.Run(async () =>
        {
            for (var round = 0; round < 3; round++)
            {
                var expected = 0;
                await foreach (var value in service.CountAsync(1_000))
                {
                    Assert.Equal(expected++, value);
                }

                Assert.Equal(1_000, expected);
            }
        }));
        await Task.WhenAll(streams.Concat(Callers(service, 16, 200))).WaitAsync(s_timeout);

        // And one lone caller after the crowd: it drains its own frame again.
        Assert.Equal(3, await service.AddAsync(1, 2).WaitAsync(s_timeout));
    }

    [Fact]
    public async Task Many_clients_are_served_each_with_their_own_windows()
    {
        var clients = await Task.WhenAll(Enumerable.Range(0, 8).Select(_ => RpcClient.ConnectAsync(_host.Address))).WaitAsync(s_timeout);
        try
        {
            var sums = await Task.WhenAll(clients.Select((c, i) => c.GetService<IShmService>().AddAsync(i, 100))).WaitAsync(s_timeout);
            Assert.Equal(Enumerable.Range(100, 8), sums);
        }
        finally
        {
            foreach (var client in clients)
            {
                await client.DisposeAsync();
            }
        }

        // The server goes on serving after those clients left.
        await using var later = await RpcClient.ConnectAsync(_host.Address).WaitAsync(s_timeout);
        Assert.Equal(3, await later.GetService<IShmService>().AddAsync(1, 2).WaitAsync(s_timeout));
    }

    [Fact]
    public async Task A_peer_killed_mid_call_fails_the_pending_call_with_Disconnected()
    {
        await using var client = await RpcClient.ConnectAsync(_host.Address).WaitAsync(s_timeout);
        var pending = client.GetService<IShmService>().HangAsync("doomed");
        await _host.WaitForLineAsync("started doomed", s_timeout);

        await _host.KillAsync();

        var error = await Assert.ThrowsAsync<RpcException>(() => pending.WaitAsync(s_timeout));
        Assert.Equal(RpcStatusCode.Disconnected, error.StatusCode);
    }

    [Fact]
    public async Task A_peer_that_never_answers_leaves_the_caller_to_its_deadline_and_the_link_usable()
    {
        await using var client = await RpcClient.ConnectAsync(_host.Address).WaitAsync(s_timeout);
        var service = client.GetService<IShmService>();
        using var cancel = new CancellationTokenSource();
        var pending = service.HangAsync("forever");
        await _host.WaitForLineAsync("started forever", s_timeout);

        // The call is stuck in the peer, not in the windows: other calls still pass.
        Assert.Equal(7, await service.AddAsync(3, 4).WaitAsync(s_timeout));
        Assert.False(pending.IsCompleted);
    }

    [Fact]
    public async Task A_client_that_shuts_down_leaves_the_server_serving_others()
    {
        var first = await RpcClient.ConnectAsync(_host.Address).WaitAsync(s_timeout);
        await using var second = await RpcClient.ConnectAsync(_host.Address).WaitAsync(s_timeout);
        Assert.Equal(2, await first.GetService<IShmService>().AddAsync(1, 1).WaitAsync(s_timeout));

        await first.DisposeAsync().AsTask().WaitAsync(s_timeout);

        var error = await Assert.ThrowsAnyAsync<Exception>(() => first.GetService<IShmService>().AddAsync(1, 1).WaitAsync(s_timeout));
        Assert.True(error is RpcException or ObjectDisposedException, error.ToString());
        Assert.Equal(4, await second.GetService<IShmService>().AddAsync(2, 2).WaitAsync(s_timeout));
    }

    [Fact]
    public async Task Nothing_listening_is_Disconnected()
    {
        var error = await Assert.ThrowsAsync<RpcException>(() => RpcClient.ConnectAsync(HostProcess.NewAddress()).WaitAsync(s_timeout));
        Assert.Equal(RpcStatusCode.Disconnected, error.StatusCode);
    }
}
