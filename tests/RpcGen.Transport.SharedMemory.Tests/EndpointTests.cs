using System.Text;

namespace RpcGen.Transport.SharedMemory.Tests;

/// <summary>
/// flipcall's endpoint semantics on one window, the two sides on two threads (the window mapped
/// twice, as two processes would), and what a hostile peer writing the header gets: a shut-down
/// window and a <see cref="RpcStatusCode.Disconnected"/> error, never a wild read or a hang.
/// </summary>
public sealed class EndpointTests : IDisposable
{
    private static readonly TimeSpan s_timeout = TimeSpan.FromSeconds(30);
    private readonly PacketWindowAllocator _allocator = new(windowCount: 4);
    private readonly PacketWindowDescriptor _window;

    public EndpointTests()
    {
        Assert.True(_allocator.TryAllocate(out _window));
    }

    public void Dispose() => _allocator.Dispose();

    private static Task<T> OnThread<T>(Func<T> body) => Task.Factory.StartNew(body, CancellationToken.None, TaskCreationOptions.LongRunning, TaskScheduler.Default);

    private static Task OnThread(Action body) => Task.Factory.StartNew(body, CancellationToken.None, TaskCreationOptions.LongRunning, TaskScheduler.Default);

    [Fact]
    public async Task Connect_RecvFirst_SendRecv_and_SendLast_pass_datagrams_and_control()
    {
        using var client = new SharedMemoryEndpoint(SharedMemoryEndpointSide.Client, _window);
        using var server = new SharedMemoryEndpoint(SharedMemoryEndpointSide.Server, _window);

        var serving = OnThread(() =>
        {
            var received = new List<string>();
            var length = server.RecvFirst();
            while (length > 0)
            {
                var text = Encoding.UTF8.GetString(server.Data[..length]);
                received.Add(text);
                var reply = Encoding.UTF8.GetBytes(text.ToUpperInvariant());
                reply.CopyTo(server.Data);
                length = server.SendRecv(reply.Length);
            }

            return received;
        });

        var replies = await OnThread(() =>
        {
            client.Connect();
            var answers = new List<string>();
            foreach (var word in new[] { "one", "two", "three" })
            {
                var bytes = Encoding.UTF8.GetBytes(word);
                bytes.CopyTo(client.Data);
                var length = client.SendRecv(bytes.Length);
                answers.Add(Encoding.UTF8.GetString(client.Data[..length]));
            }

            client.SendLast(0);
            return answers;
        }).WaitAsync(s_timeout);

        Assert.Equal(["ONE", "TWO", "THREE"], replies);
        Assert.Equal(["one", "two", "three"], await serving.WaitAsync(s_timeout));
        Assert.Equal(PacketWindowAllocator.DefaultWindowBytes - PacketHeader.Bytes, client.DataCapacity);
    }

    [Fact]
    public async Task Shutdown_on_one_side_unblocks_the_waiting_peer()
    {
        using var client = new SharedMemoryEndpoint(SharedMemoryEndpointSide.Client, _window);
        using var server = new SharedMemoryEndpoint(SharedMemoryEndpointSide.Server, _window);
        var serving = OnThread(() => server.RecvFirst());
        await OnThread(() => client.Connect()).WaitAsync(s_timeout);

        // The server now waits for a first datagram that never comes.
        client.Shutdown();

        await Assert.ThrowsAsync<SharedMemoryShutdownException>(() => serving.WaitAsync(s_timeout));
        Assert.Throws<SharedMemoryShutdownException>(() => client.SendRecv(0));
    }

    [Fact]
    public async Task Shutdown_from_another_thread_unblocks_a_local_wait()
    {
        using var client = new SharedMemoryEndpoint(SharedMemoryEndpointSide.Client, _window);
        using var server = new SharedMemoryEndpoint(SharedMemoryEndpointSide.Server, _window);
        var serving = OnThread(() => server.RecvFirst());
        await OnThread(() => client.Connect()).WaitAsync(s_timeout);
        var waiting = OnThread(() => client.SendRecv(1));

        // The server now holds control and never answers; the client waits in SendRecv.
        Assert.Equal(1, await serving.WaitAsync(s_timeout));
        client.Shutdown();

        await Assert.ThrowsAsync<SharedMemoryShutdownException>(() => waiting.WaitAsync(s_timeout));
        Assert.True(client.IsShutdown);
        Assert.Throws<SharedMemoryShutdownException>(() => server.SendRecv(0));
    }

    [Fact]
    public async Task A_peer_that_never_answers_fails_the_wait_after_its_timeout()
    {
        using var client = new SharedMemoryEndpoint(SharedMemoryEndpointSide.Client, _window, new SharedMemoryOptions { PeerResponseTimeout = TimeSpan.FromMilliseconds(200) });

        // Nobody runs RecvFirst.
        var error = await Assert.ThrowsAsync<RpcException>(() => OnThread(() => client.Connect()).WaitAsync(s_timeout));

        Assert.Equal(RpcStatusCode.Disconnected, error.StatusCode);
        Assert.Contains("did not hand control back", error.Message);
    }

    [Fact]
    public async Task A_datagram_length_beyond_the_window_is_refused_before_anything_is_read()
    {
        using var server = new SharedMemoryEndpoint(SharedMemoryEndpointSide.Server, _window);
        using var hostile = new RawWindow(_window);
        var serving = OnThread(() => server.RecvFirst());

        // The hostile client connects by hand, then announces a datagram longer than the window.
        hostile.State = PacketHeader.ServerActive;
        await WaitUntilAsync(() => hostile.State == PacketHeader.ClientActive);
        hostile.Length = 0x7FFF_FFF0;
        hostile.State = PacketHeader.ServerActive;

        var error = await Assert.ThrowsAsync<RpcException>(() => serving.WaitAsync(s_timeout));
        Assert.Equal(RpcStatusCode.Disconnected, error.StatusCode);
        Assert.Contains("datagram length", error.Message);
        Assert.Equal(PacketHeader.Shutdown, hostile.State);
    }

    [Fact]
    public async Task An_illegal_state_word_shuts_the_window_down()
    {
        using var server = new SharedMemoryEndpoint(SharedMemoryEndpointSide.Server, _window);
        using var hostile = new RawWindow(_window);
        var serving = OnThread(() => server.RecvFirst());

        hostile.State = 7;

        var error = await Assert.ThrowsAsync<RpcException>(() => serving.WaitAsync(s_timeout));
        Assert.Contains("illegal state word 7", error.Message);
        Assert.Equal(PacketHeader.Shutdown, hostile.State);
    }

    [Fact]
    public async Task A_peer_that_takes_control_it_was_not_given_is_a_violation()
    {
        using var client = new SharedMemoryEndpoint(SharedMemoryEndpointSide.Client, _window);
        using var server = new SharedMemoryEndpoint(SharedMemoryEndpointSide.Server, _window);
        using var hostile = new RawWindow(_window);
        var serving = OnThread(() => server.RecvFirst());
        await OnThread(() => client.Connect()).WaitAsync(s_timeout);

        // The client holds control; the peer flips the state to itself behind its back.
        hostile.State = PacketHeader.ServerActive;

        var error = Assert.Throws<RpcException>(() => client.SendRecv(1));
        Assert.Contains("while this side held control", error.Message);
        await Assert.ThrowsAnyAsync<RpcException>(() => serving.WaitAsync(s_timeout));
    }

    [Fact]
    public void The_allocator_hands_out_distinct_page_aligned_windows_and_then_refuses()
    {
        using var allocator = new PacketWindowAllocator(windowCount: 3, windowBytes: 2 * Environment.SystemPageSize);
        var windows = new List<PacketWindowDescriptor>();
        while (allocator.TryAllocate(out var window))
        {
            windows.Add(window);
        }

        Assert.Equal(3, windows.Count);
        Assert.All(windows, w => Assert.Equal(0, w.Offset % Environment.SystemPageSize));
        Assert.Equal(3, windows.Select(w => w.Offset).Distinct().Count());

        allocator.Release(windows[1]);
        Assert.True(allocator.TryAllocate(out var again));
        Assert.Equal(windows[1].Offset, again.Offset);
        Assert.Throws<ArgumentException>(() => allocator.Release(windows[0] with { Offset = windows[0].Offset + 1 }));
    }

    /// <summary>
    /// Waits, bounded in time, for a condition another thread or process makes true in shared memory,
    /// where there is nothing to await. A test peer that writes a window's state by hand wakes no
    /// sleeper, so the endpoint notices it only at the end of its 100 ms sleep slice; a bound in yields
    /// (a million took about that long on an idle machine) failed there.
    /// </summary>
    internal static async Task WaitUntilAsync(Func<bool> condition)
    {
        using var timeout = new CancellationTokenSource(s_timeout);
        while (!condition())
        {
            timeout.Token.ThrowIfCancellationRequested();
            await Task.Yield();
        }
    }
}
