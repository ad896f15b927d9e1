using System.IO.Pipelines;
using System.Net.Sockets;
using RpcGen.Links;
using RpcGen.Testing;

namespace RpcGen.Transport.SharedMemory.Tests;

/// <summary>A contract whose first call holds a server slot until the test lets it go.</summary>
[RpcService(0x5E57_5000_0000_0020)]
public interface IShmGate
{
    /// <summary>Answers once the test opens the gate.</summary>
    Task<int> HoldAsync();

    /// <summary>Answers at once.</summary>
    Task<int> PingAsync();
}

/// <summary>
/// The pool of windows per direction: many callers and chunks in flight at once, in order, across a
/// real second process; a peer that stops draining holds the sender at the pool (its bytes queue, no
/// thread waits) and is then given up;
/// and the fail-fast <see cref="RpcStatusCode.Overloaded"/> policy, which lives at the call level.
/// </summary>
public sealed class WindowPoolTests
{
    private static readonly TimeSpan s_timeout = TimeSpan.FromSeconds(30);

    public WindowPoolTests() => SharedMemoryLinks.Register();

    [Fact]
    public async Task Concurrent_callers_lap_a_small_pool_many_times_and_every_answer_arrives_whole()
    {
        // One-page windows, three per direction: every echo spans many windows and laps the ring.
        await using var host = await HostProcess.StartAsync(windowBytes: 4096, windowsPerDirection: 3);
        await using var client = await RpcClient.ConnectAsync(host.Address).WaitAsync(s_timeout);
        var service = client.GetService<IShmService>();

        var callers = Enumerable.Range(0, 32).Select(caller => Task.Run(async () =>
        {
            var random = new Random(caller);
            for (var i = 0; i < 10; i++)
            {
                var data = new byte[random.Next(1, 40_000)];
                random.NextBytes(data);
                Assert.Equal(data, await service.EchoAsync(data));
                Assert.Equal(caller + i, await service.AddAsync(caller, i));
            }
        }));

        await Task.WhenAll(callers).WaitAsync(s_timeout);
    }

    [Fact]
    public async Task A_peer_that_stops_draining_holds_the_sender_at_the_pool_then_is_given_up()
    {
        await using var peer = await RawClient.ConnectAsync(TimeSpan.FromSeconds(5));
        var (served, toClient) = (peer.Served, peer.ToClient);

        // Three laps of the ring; the server's writer may run ahead of us by the pool, no further.
        // It runs on a thread of its own while this one drains.
        var stream = new byte[3 * RawClient.Windows * RawClient.Chunk];
        new Random(7).NextBytes(stream);
        var writing = Task.Run(async () => await served.Output.WriteAsync(stream));

        // Drain two laps strictly in ring order: each window holds the next piece of the stream,
        // so no window was written again before we gave it back.
        for (var chunk = 0; chunk < 2 * RawClient.Windows; chunk++)
        {
            Assert.Equal(stream.AsSpan(chunk * RawClient.Chunk, RawClient.Chunk).ToArray(), await peer.TakeAsync(chunk % RawClient.Windows, RawClient.Chunk));
        }

        // The last lap went into the pool without waiting for us: the write is done.
        await writing.WaitAsync(s_timeout);
        Assert.All(toClient, window => Assert.Equal(PacketHeader.ServerActive, window.State));

        // Stop draining: the next write waits for the oldest window, and the writer gives the peer
        // up after PeerResponseTimeout.
        var error = await Assert.ThrowsAsync<RpcException>(async () =>
        {
            for (var i = 0; i < 100; i++)
            {
                await served.Output.WriteAsync(stream).AsTask().WaitAsync(s_timeout);
            }
        });

        Assert.Equal(RpcStatusCode.Disconnected, error.StatusCode);
        Assert.Contains("did not hand control back", error.Message);
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task A_peer_that_takes_nothing_holds_no_writing_thread_and_gets_the_queued_bytes_in_order_once_it_drains_again(bool infinitePeerTimeout)
    {
        // A peer timeout far beyond the test's own bound, or none: a write that waited for a window
        // on its caller's thread would hold that thread past the bound and fail the test.
        await using var peer = await RawClient.ConnectAsync(infinitePeerTimeout ? Timeout.InfiniteTimeSpan : TimeSpan.FromMinutes(10));
        var output = peer.Served.Output;

        // Fill every window; the peer takes none of them back.
        var stream = new byte[(RawClient.Windows * RawClient.Chunk) + (5 * RawClient.Chunk / 2)];
        new Random(11).NextBytes(stream);
        var filled = await output.WriteAsync(stream.AsMemory(0, RawClient.Windows * RawClient.Chunk)).AsTask().WaitAsync(s_timeout);
        Assert.False(filled.IsCompleted);

        // Two and a half windows more, written and flushed on a thread of its own: the calls
        // return with the flush pending, they do not wait for the peer.
        var returned = new TaskCompletionSource<Task<FlushResult>>(TaskCreationOptions.RunContinuationsAsynchronously);
        var writer = new Thread(() => returned.SetResult(output.WriteAsync(stream.AsMemory(RawClient.Windows * RawClient.Chunk)).AsTask())) { IsBackground = true };
        writer.Start();
        var queued = await returned.Task.WaitAsync(s_timeout);
        Assert.False(queued.IsCompleted, "The flush completed although the peer holds every window.");
        Assert.All(peer.ToClient, window => Assert.Equal(PacketHeader.ServerActive, window.State));

        // The peer drains again, in ring order: every byte arrives once, in order, and the flush completes.
        var window = await peer.TakeInOrderAsync(stream);
        Assert.False((await queued.WaitAsync(s_timeout)).IsCompleted);

        // The backlog is gone: a write goes straight into the next window again.
        var next = new byte[100];
        new Random(13).NextBytes(next);
        Assert.True(output.WriteAsync(next).IsCompletedSuccessfully, "A write after the backlog drained did not go straight into a window.");
        Assert.Equal(next, await peer.TakeAsync(window, next.Length));
    }

    [Fact]
    public async Task Closing_while_writes_wait_for_windows_sends_them_in_order_before_the_end_of_the_stream()
    {
        await using var peer = await RawClient.ConnectAsync(TimeSpan.FromMinutes(10));
        var output = peer.Served.Output;

        // Every window full and two and a half windows more queued behind them.
        var stream = new byte[(RawClient.Windows * RawClient.Chunk) + (5 * RawClient.Chunk / 2)];
        new Random(17).NextBytes(stream);
        var queued = output.WriteAsync(stream).AsTask();
        Assert.False(queued.IsCompleted, "The flush completed although the peer holds every window.");

        // A graceful close now: it sends what waits, then the end of the stream.
        var closing = peer.Served.DisposeAsync().AsTask();
        var window = await peer.TakeInOrderAsync(stream);

        // The end of the stream is the empty datagram that follows; taking it lets the close finish.
        Assert.Empty(await peer.TakeAsync(window, 0));
        await closing.WaitAsync(s_timeout);

        // The write's flush ends either way the close leaves it (its bytes went out, the link is
        // closed): it does not hang.
        await Task.WhenAny(queued).WaitAsync(s_timeout);
    }

    [Fact]
    public async Task Cancelling_a_pending_flush_ends_its_wait_and_its_bytes_still_go_out_in_order()
    {
        await using var peer = await RawClient.ConnectAsync(Timeout.InfiniteTimeSpan);
        var output = peer.Served.Output;
        var stream = new byte[(RawClient.Windows * RawClient.Chunk) + (RawClient.Chunk / 2)];
        new Random(19).NextBytes(stream);
        var queued = output.WriteAsync(stream).AsTask();
        Assert.False(queued.IsCompleted, "The flush completed although the peer holds every window.");

        // As a Cap'n Proto connection wakes its writer from a peer that may never take data.
        output.CancelPendingFlush();
        Assert.True((await queued.WaitAsync(s_timeout)).IsCanceled);

        await peer.TakeInOrderAsync(stream);
    }

    [Fact]
    public async Task Completing_the_output_with_a_queued_span_never_advanced_sends_the_queue_then_the_end_of_the_stream()
    {
        await using var peer = await RawClient.ConnectAsync(Timeout.InfiniteTimeSpan);
        var output = peer.Served.Output;
        var stream = new byte[(RawClient.Windows * RawClient.Chunk) + (RawClient.Chunk / 2)];
        new Random(23).NextBytes(stream);
        _ = output.WriteAsync(stream);

        // A span out of the queue, then the end: the span is abandoned, as a pipe's is, and the end
        // waits for no write.
        _ = output.GetMemory(100);
        var ending = output.CompleteAsync().AsTask();
        var window = await peer.TakeInOrderAsync(stream);
        Assert.Empty(await peer.TakeAsync(window, 0));
        await ending.WaitAsync(s_timeout);
    }

    [Fact]
    public async Task Calls_beyond_the_servers_call_limit_fail_fast_with_Overloaded_over_shm()
    {
        var gate = new Gate();
        await using var server = new RpcServer(new RpcServerOptions { Limits = new RpcLimits { MaxConcurrentCalls = 1 } });
        server.AddService<IShmGate>(gate);
        await server.StartAsync(HostProcess.NewAddress());
        await using var client = await RpcClient.ConnectAsync(server.Addresses[0]).WaitAsync(s_timeout);
        var proxy = client.GetService<IShmGate>();

        var held = proxy.HoldAsync();
        await gate.Entered.Task.WaitAsync(s_timeout);
        var error = await Assert.ThrowsAsync<RpcException>(() => proxy.PingAsync().WaitAsync(s_timeout));
        gate.Open.SetResult();

        // The refused call cost the held one nothing. (Not followed by another call: the server
        // may free the held call's slot only after its answer has left, so a call sent the moment
        // that answer arrives can still be refused.)
        Assert.Equal(RpcStatusCode.Overloaded, error.StatusCode);
        Assert.Equal(1, await held.WaitAsync(s_timeout));
    }

    private sealed class Gate : IShmGate
    {
        public TaskCompletionSource Entered { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);

        public TaskCompletionSource Open { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);

        public async Task<int> HoldAsync()
        {
            Entered.SetResult();
            await Open.Task;
            return 1;
        }

        public Task<int> PingAsync() => Task.FromResult(2);
    }
}
