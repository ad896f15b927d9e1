using System.Buffers;
using RpcGen.Links;

namespace RpcGen.Transport.SharedMemory.Tests;

/// <summary>
/// A link's receiving thread while its frame sink pauses (the protocol must wait for room): it takes
/// no window and hands the sink nothing until the sink's room comes, then goes on with what waited in
/// the windows; and a stop while it waits ends it, with the sink told why. The other side's end of
/// its stream toward such a peer is waited for off the caller's thread, until an abort ends it. A hand-made sink pauses
/// after the first bytes it gets and says when the link starts waiting for its room, so each step is
/// awaited, never timed. (The message protocol's own pause over shm: <c>SharedMemoryFrameSinkTests</c>.)
/// </summary>
public sealed class PausedFrameSinkTests
{
    private static readonly TimeSpan s_timeout = TimeSpan.FromSeconds(30);

    [Fact]
    public async Task A_paused_sink_gets_nothing_more_until_its_room_comes_then_what_waited_in_the_windows()
    {
        var (listener, client, server) = await LinkPair.ConnectAsync(new SharedMemoryOptions(), s_timeout);
        await using var _ = listener;
        var sink = new PausingSink();
        server.AttachFrameSink(sink);

        await client.Output.WriteAsync("first"u8.ToArray()).AsTask().WaitAsync(s_timeout);
        Assert.Equal("first"u8.ToArray(), await sink.Received.ReadAsync().AsTask().WaitAsync(s_timeout));
        await sink.RoomAwaited.WaitAsync(s_timeout);

        // Sent while the sink pauses: it waits in its window until the room comes.
        await client.Output.WriteAsync("second"u8.ToArray()).AsTask().WaitAsync(s_timeout);
        sink.GrantRoom();
        Assert.Equal("second"u8.ToArray(), await sink.Received.ReadAsync().AsTask().WaitAsync(s_timeout));

        // The peer's graceful close reaches the sink as the end of the input.
        await client.DisposeAsync().AsTask().WaitAsync(s_timeout);
        Assert.Null(await sink.Completed.WaitAsync(s_timeout));
        Assert.Equal(0, sink.DeliveredWhilePaused);
        await server.DisposeAsync().AsTask().WaitAsync(s_timeout);
    }

    [Fact]
    public async Task Disposing_a_link_while_its_sink_is_paused_ends_its_receiving_and_tells_the_sink()
    {
        // A peer timeout far beyond the test's bound: nothing here may wait for the peer.
        var (listener, client, server) = await LinkPair.ConnectAsync(new SharedMemoryOptions { PeerResponseTimeout = TimeSpan.FromHours(1) }, s_timeout);
        await using var _ = listener;
        await using var __ = client;
        var sink = new PausingSink();
        server.AttachFrameSink(sink);
        var clientReceived = LinkPair.ReadToEndAsync(client.Input);

        await client.Output.WriteAsync("first"u8.ToArray()).AsTask().WaitAsync(s_timeout);
        Assert.Equal("first"u8.ToArray(), await sink.Received.ReadAsync().AsTask().WaitAsync(s_timeout));
        await sink.RoomAwaited.WaitAsync(s_timeout);
        await client.Output.WriteAsync("second"u8.ToArray()).AsTask().WaitAsync(s_timeout);

        // The room never comes: only the stop can end the receiving thread's wait, and disposal
        // waits for that thread before it unmaps the windows.
        await server.DisposeAsync().AsTask().WaitAsync(s_timeout);
        var error = await sink.Completed.WaitAsync(s_timeout);
        Assert.Equal(RpcStatusCode.Disconnected, Assert.IsType<RpcException>(error).StatusCode);
        Assert.Contains("this side closed the link", error.Message, StringComparison.Ordinal);
        Assert.False(sink.Received.TryRead(out var late), $"{late?.Length} bytes were handed to the paused sink");
        Assert.Equal(0, sink.DeliveredWhilePaused);

        // The server's end of the stream reached the client before it stopped.
        Assert.Empty(await clientReceived.WaitAsync(s_timeout));
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task Ending_the_output_toward_a_peer_that_takes_nothing_holds_no_thread_and_an_abort_ends_it(bool synchronously)
    {
        await using var peer = await ConnectToPeerThatTakesNothingAsync();
        var client = peer.Client;

        // The sink never gets its room, so the server's receiving thread takes no more windows
        // and never takes the end of the stream: the end must be waited for off the caller's
        // thread. Started elsewhere, so a call that held its thread fails the wait, not the run.
        if (synchronously)
        {
            // PipeWriter.Complete returns nothing to wait on: it must return at once, and the
            // writer must refuse writes from then on (they would race the ending thread).
            await Task.Factory.StartNew(() => client.Output.Complete(), CancellationToken.None, TaskCreationOptions.None, TaskScheduler.Default).WaitAsync(s_timeout);
            Assert.Throws<InvalidOperationException>(() => client.Output.GetSpan(10));
            Assert.Throws<InvalidOperationException>(() => client.Output.Advance(0));

            // The abort ends the ending thread's wait, which lets the writer go, and only then
            // can the link's close (which takes the writer) finish.
            client.Abort();
            await client.DisposeAsync().AsTask().WaitAsync(s_timeout);
        }
        else
        {
            var started = Task.Factory.StartNew(() => client.Output.CompleteAsync().AsTask(), CancellationToken.None, TaskCreationOptions.None, TaskScheduler.Default);
            var ending = await started.WaitAsync(s_timeout);
            Assert.False(ending.IsCompleted, "a peer that takes nothing took the end of the stream");

            // The abort shuts the windows down, which ends that wait at once.
            client.Abort();
            await ending.WaitAsync(s_timeout);
        }

        Assert.Equal(0, peer.Sink.DeliveredWhilePaused);
    }

    [Fact]
    public async Task A_write_while_the_link_closes_toward_a_peer_that_takes_nothing_is_dropped_and_its_flush_fails()
    {
        // The link's close ends the stream on a thread of its own, which holds the writer until the
        // peer takes the end (here: never, until the abort). A protocol write meanwhile must find the
        // writer taken and go nowhere, not write beside that thread nor free the writer under it.
        await using var peer = await ConnectToPeerThatTakesNothingAsync();
        var client = peer.Client;
        var closing = client.DisposeAsync().AsTask();
        Assert.False(closing.IsCompleted, "a peer that takes nothing took the end of the stream");

        // Each write goes to a buffer of its own and every flush fails: the writer stays the closer's.
        for (var i = 0; i < 3; i++)
        {
            "late"u8.CopyTo(client.Output.GetSpan(4));
            client.Output.Advance(4);
            var flushed = await Record.ExceptionAsync(async () => await client.Output.FlushAsync());
            Assert.Equal(RpcStatusCode.Disconnected, Assert.IsType<RpcException>(flushed).StatusCode);
        }

        Assert.False(closing.IsCompleted, "the close ended although the peer took nothing");
        client.Abort();
        await closing.WaitAsync(s_timeout);
        Assert.Equal(0, peer.Sink.DeliveredWhilePaused);
    }

    /// <summary>
    /// A link pair whose server sink took "first" and then paused for good, so the server's receiving
    /// thread takes nothing more from the client, the end of the stream included. Timeouts far beyond
    /// the tests' bound: a wait for the peer that held a thread fails a test instead of passing late.
    /// </summary>
    private static async Task<PausedPeer> ConnectToPeerThatTakesNothingAsync()
    {
        var (listener, client, server) = await LinkPair.ConnectAsync(
            new SharedMemoryOptions { PeerResponseTimeout = TimeSpan.FromHours(1) }, s_timeout, new RpcLimits { HandshakeTimeout = TimeSpan.FromHours(1) });
        var peer = new PausedPeer(listener, client, server, new PausingSink());
        server.AttachFrameSink(peer.Sink);
        await client.Output.WriteAsync("first"u8.ToArray()).AsTask().WaitAsync(s_timeout);
        Assert.Equal("first"u8.ToArray(), await peer.Sink.Received.ReadAsync().AsTask().WaitAsync(s_timeout));
        await peer.Sink.RoomAwaited.WaitAsync(s_timeout);
        return peer;
    }

    /// <summary>The links of <see cref="ConnectToPeerThatTakesNothingAsync"/>; disposing aborts the client first, so nothing waits on the hour-long timeouts whatever a test left.</summary>
    private sealed record PausedPeer(RpcLinkListener Listener, RpcLink Client, RpcLink Server, PausingSink Sink) : IAsyncDisposable
    {
        public async ValueTask DisposeAsync()
        {
            Client.Abort();
            await Client.DisposeAsync().AsTask().WaitAsync(s_timeout);
            await Server.DisposeAsync().AsTask().WaitAsync(s_timeout);
            await Listener.DisposeAsync().AsTask().WaitAsync(s_timeout);
        }
    }

    /// <summary>
    /// Keeps each datagram it is handed, pauses after the first, and grants its room when the test
    /// says so. Counts deliveries while it said it must wait, which a link must never make.
    /// </summary>
    private sealed class PausingSink : IRpcFrameSink
    {
        private readonly Channel<byte[]> _received = Channel.CreateUnbounded<byte[]>();
        private readonly TaskCompletionSource _room = new(TaskCreationOptions.RunContinuationsAsynchronously);
        private readonly TaskCompletionSource _roomAwaited = new(TaskCreationOptions.RunContinuationsAsynchronously);
        private readonly TaskCompletionSource<Exception?> _completed = new(TaskCreationOptions.RunContinuationsAsynchronously);
        private volatile bool _mustWait;
        private bool _paused;
        private int _deliveredWhilePaused;

        /// <summary>The bytes of each non-empty delivery, in order.</summary>
        public ChannelReader<byte[]> Received => _received.Reader;

        /// <summary>Completes when the link first asks for the paused sink's room.</summary>
        public Task RoomAwaited => _roomAwaited.Task;

        /// <summary>Completes with the link's error (null for the peer's end of the stream) once the input ended.</summary>
        public Task<Exception?> Completed => _completed.Task;

        public int DeliveredWhilePaused => Volatile.Read(ref _deliveredWhilePaused);

        public bool MustWait => _mustWait;

        public RpcFrameSinkStatus ReceiveLane(ReadOnlySequence<byte> frame) => throw new InvalidOperationException("Nothing is sent on the lane in these tests.");

        public RpcFrameSinkStatus Receive(ReadOnlySequence<byte> received, out long consumed, out long nextFrameBytes)
        {
            consumed = received.Length;
            nextFrameBytes = 0;
            if (_mustWait)
            {
                Interlocked.Increment(ref _deliveredWhilePaused);
            }

            if (received.IsEmpty)
            {
                // What the link held back when the sink paused (nothing: this sink takes everything).
                return RpcFrameSinkStatus.Continue;
            }

            _received.Writer.TryWrite(received.ToArray());
            if (_paused)
            {
                return RpcFrameSinkStatus.Continue;
            }

            _paused = true;
            _mustWait = true;
            return RpcFrameSinkStatus.Paused;
        }

        public void EndBatch()
        {
        }

        public Task WaitForRoomAsync()
        {
            _roomAwaited.TrySetResult();
            return _room.Task;
        }

        /// <summary>Lets the link deliver again.</summary>
        public void GrantRoom()
        {
            _mustWait = false;
            _room.TrySetResult();
        }

        public void Complete(long unconsumedBytes, Exception? error) => _completed.TrySetResult(error);
    }
}
