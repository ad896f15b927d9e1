using RpcGen.Transport.Message.TestServer;

namespace RpcGen.Transport.Message.Tests;

/// <summary>
/// A reconnecting client across in-process server restarts on the same address: the states it goes
/// through, calls in flight when the connection drops (Disconnected; [Idempotent] ones re-sent once),
/// calls made while disconnected (fail fast, or wait for ready).
/// </summary>
public class ReconnectTests
{
    private static readonly TimeSpan Timeout = TransportFixture.Timeout;

    // Short backoff so the tests do not wait long between attempts; the clock is the real one.
    private static readonly RpcReconnectPolicy FastBackoff = new() { InitialBackoff = TimeSpan.FromMilliseconds(20), MaxBackoff = TimeSpan.FromMilliseconds(200) };

    [Theory]
    [InlineData("tcp")]
    [InlineData("unix")]
    public async Task The_same_proxy_works_again_after_the_server_restarts_and_the_states_say_so(string transport)
    {
        var first = await InProcessServer.StartAsync(TransportFixture.NewAddress(transport));
        await using var client = await RpcClient.ConnectAsync(first.Address, new RpcClientOptions { Reconnect = FastBackoff });
        var proxy = client.GetService<IRestartService>();
        var states = client.WatchStateAsync().GetAsyncEnumerator();
        Assert.Equal(3, await proxy.AddAsync(1, 2).WaitAsync(Timeout));
        Assert.True(await states.MoveNextAsync().AsTask().WaitAsync(Timeout));
        Assert.Equal(RpcConnectionState.Ready, states.Current);

        await first.DisposeAsync();
        Assert.True(await states.MoveNextAsync().AsTask().WaitAsync(Timeout));
        Assert.Equal(RpcConnectionState.Connecting, states.Current);
        await using var second = await InProcessServer.StartAsync(first.Address);

        var seen = new List<RpcConnectionState>();
        while (await states.MoveNextAsync().AsTask().WaitAsync(Timeout) && states.Current != RpcConnectionState.Ready)
        {
            seen.Add(states.Current);
        }

        Assert.Equal(RpcConnectionState.Ready, states.Current);
        Assert.Equal(RpcConnectionState.Ready, client.State);
        Assert.All(seen, state => Assert.True(state is RpcConnectionState.TransientFailure or RpcConnectionState.Connecting));
        Assert.Equal(7, await proxy.AddAsync(3, 4).WaitAsync(Timeout));

        await client.DisposeAsync();
        Assert.True(await states.MoveNextAsync().AsTask().WaitAsync(Timeout));
        Assert.Equal(RpcConnectionState.Shutdown, states.Current);
        Assert.False(await states.MoveNextAsync().AsTask().WaitAsync(Timeout));
        await client.Completion.WaitAsync(Timeout);
    }

    [Fact]
    public async Task A_call_in_flight_when_the_connection_drops_fails_with_Disconnected_and_is_not_resent()
    {
        var first = await InProcessServer.StartAsync(TransportFixture.NewAddress("unix"), hang: true);
        await using var client = await RpcClient.ConnectAsync(first.Address, new RpcClientOptions { Reconnect = FastBackoff });
        var proxy = client.GetService<IRestartService>();
        var call = proxy.SubmitAsync("order-1");
        await first.Service.Started.Reader.ReadAsync().AsTask().WaitAsync(Timeout);

        await first.DisposeAsync();

        var error = await Assert.ThrowsAsync<RpcException>(() => call.WaitAsync(Timeout));
        Assert.Equal(RpcStatusCode.Disconnected, error.StatusCode);
        await using var second = await InProcessServer.StartAsync(first.Address);
        using (RpcWaitForReady.Set(true))
        {
            Assert.Equal("submit:order-2", await proxy.SubmitAsync("order-2").WaitAsync(Timeout));
        }

        Assert.Equal(["submit order-2"], second.Service.Calls); // order-1 was not re-sent
    }

    [Fact]
    public async Task An_idempotent_call_in_flight_when_the_connection_drops_is_resent_once_on_the_next_connection()
    {
        var first = await InProcessServer.StartAsync(TransportFixture.NewAddress("unix"), hang: true);
        await using var client = await RpcClient.ConnectAsync(first.Address, new RpcClientOptions { Reconnect = FastBackoff });
        var proxy = client.GetService<IRestartService>();
        var call = proxy.ReadAsync("balance");
        await first.Service.Started.Reader.ReadAsync().AsTask().WaitAsync(Timeout);

        await first.DisposeAsync();
        Assert.False(call.IsCompleted); // waiting for the next connection, not failed
        await using var second = await InProcessServer.StartAsync(first.Address);

        Assert.Equal("read:balance", await call.WaitAsync(Timeout));
        Assert.Equal(["read balance"], second.Service.Calls);
    }

    [Fact]
    public async Task Without_wait_for_ready_calls_made_while_disconnected_fail_at_once_and_a_scope_makes_one_wait()
    {
        var first = await InProcessServer.StartAsync(TransportFixture.NewAddress("unix"));
        await using var client = await RpcClient.ConnectAsync(first.Address, new RpcClientOptions { Reconnect = FastBackoff });
        var proxy = client.GetService<IRestartService>();
        await first.DisposeAsync();
        await WaitForStateAsync(client, RpcConnectionState.TransientFailure);

        var error = await Assert.ThrowsAsync<RpcException>(() => proxy.AddAsync(1, 2).WaitAsync(Timeout));
        Assert.Equal(RpcStatusCode.Disconnected, error.StatusCode);
        Assert.Contains("WaitForReady", error.Message);

        Task<int> waiting;
        using (RpcWaitForReady.Set(true))
        {
            waiting = proxy.AddAsync(2, 3);
        }

        Assert.False(waiting.IsCompleted);
        await using var second = await InProcessServer.StartAsync(first.Address);
        Assert.Equal(5, await waiting.WaitAsync(Timeout));
    }

    [Fact]
    public async Task With_wait_for_ready_a_call_waits_for_the_server_to_come_up_and_its_deadline_bounds_the_wait()
    {
        var first = await InProcessServer.StartAsync(TransportFixture.NewAddress("unix"));
        await using var client = await RpcClient.ConnectAsync(first.Address, new RpcClientOptions { Reconnect = FastBackoff, WaitForReady = true });
        var proxy = client.GetService<IRestartService>();
        await first.DisposeAsync();
        await WaitForStateAsync(client, RpcConnectionState.TransientFailure);

        Task<int> bounded;
        using (RpcDeadline.After(TimeSpan.FromMilliseconds(1)))
        {
            bounded = proxy.AddAsync(1, 1);
        }

        var waiting = proxy.AddAsync(2, 3);
        var expired = await Assert.ThrowsAsync<RpcException>(() => bounded.WaitAsync(Timeout));
        Assert.Equal(RpcStatusCode.DeadlineExceeded, expired.StatusCode);
        Assert.False(waiting.IsCompleted);

        await using var second = await InProcessServer.StartAsync(first.Address);
        Assert.Equal(5, await waiting.WaitAsync(Timeout));
    }

    [Fact]
    public async Task A_client_that_does_not_reconnect_is_shut_down_when_its_connection_closes()
    {
        var server = await InProcessServer.StartAsync(TransportFixture.NewAddress("tcp"));
        await using var client = await RpcClient.ConnectAsync(server.Address);
        var changes = new List<RpcConnectionState>();
        client.StateChanged += state => { lock (changes) { changes.Add(state); } };

        await server.DisposeAsync();

        await client.Completion.WaitAsync(Timeout);
        Assert.Equal(RpcConnectionState.Shutdown, client.State);
        Assert.NotNull(client.CloseReason);
        lock (changes)
        {
            Assert.Equal([RpcConnectionState.Shutdown], changes);
        }

        var error = await Assert.ThrowsAsync<RpcException>(() => client.GetService<IRestartService>().AddAsync(1, 2).WaitAsync(Timeout));
        Assert.Equal(RpcStatusCode.Disconnected, error.StatusCode);
    }

    private static async Task WaitForStateAsync(RpcClient client, RpcConnectionState wanted)
    {
        await foreach (var state in client.WatchStateAsync().WithCancellation(new CancellationTokenSource(Timeout).Token))
        {
            if (state == wanted)
            {
                return;
            }
        }
    }

    /// <summary>An in-process server of <see cref="IRestartService"/>; disposing it drops every connection at once.</summary>
    internal sealed class InProcessServer : IAsyncDisposable
    {
        private readonly RpcServer _server;

        private InProcessServer(RpcServer server, string address, RecordingRestartService service)
        {
            _server = server;
            Address = address;
            Service = service;
        }

        public string Address { get; }

        public RecordingRestartService Service { get; }

        public static async Task<InProcessServer> StartAsync(string address, bool hang = false)
        {
            var service = new RecordingRestartService(hang);
            var server = new RpcServer();
            server.AddService<IRestartService>(service);
            await server.StartAsync(address);
            return new InProcessServer(server, server.Addresses[0], service);
        }

        // No grace period: calls in flight are cut off, as when the process dies.
        public async ValueTask DisposeAsync() => await _server.StopAsync(TimeSpan.Zero).WaitAsync(Timeout);
    }

    internal sealed class RecordingRestartService(bool hang) : IRestartService
    {
        private readonly List<string> _calls = new();

        public Channel<string> Started { get; } = Channel.CreateUnbounded<string>();

        public List<string> Calls
        {
            get
            {
                lock (_calls)
                {
                    return [.. _calls];
                }
            }
        }

        public Task<int> ProcessIdAsync() => Task.FromResult(Environment.ProcessId);

        public Task<int> AddAsync(int a, int b) => Task.FromResult(a + b);

        public Task<string> SubmitAsync(string text) => AnswerAsync("submit", text);

        public Task<string> ReadAsync(string key) => AnswerAsync("read", key);

        private async Task<string> AnswerAsync(string call, string text)
        {
            lock (_calls)
            {
                _calls.Add($"{call} {text}");
            }

            Started.Writer.TryWrite(text);
            if (hang)
            {
                await Task.Delay(System.Threading.Timeout.Infinite);
            }

            return $"{call}:{text}";
        }
    }
}
