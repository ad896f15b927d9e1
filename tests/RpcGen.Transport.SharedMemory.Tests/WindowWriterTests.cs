using RpcGen.Links;

namespace RpcGen.Transport.SharedMemory.Tests;

/// <summary>
/// The link's output writes straight into the send windows: writes of every size (a size hint larger
/// than a window, writes that fill a window exactly, bytes left unflushed at close, whole writes handed
/// over in one call between span writes) arrive whole and in order; a close waits for a write in progress and sends it first; after the link fails a write goes
/// nowhere and its flush (or a whole write) fails; after completion writing throws.
/// </summary>
public sealed class WindowWriterTests
{
    private const int WindowBytes = 4096;
    private const int Windows = 3;
    private static readonly TimeSpan s_timeout = TimeSpan.FromSeconds(30);

    [Fact]
    public async Task Writes_of_every_size_arrive_whole_and_in_order_and_unflushed_bytes_go_out_on_close()
    {
        var (listener, client, server) = await ConnectPairAsync();
        await using var _ = listener;
        await using var __ = server;
        var capacity = WindowBytes - PacketHeader.Bytes;
        var pieces = RandomPieces(15, 10, capacity, 1, (3 * capacity) + 100, capacity - 1, 5000, 7);
        var expected = pieces.SelectMany(piece => piece).ToArray();

        // The reader drains while the writer runs ahead by at most the pool, on a thread of its own
        // (the writer waits for a free window inside its calls).
        var received = ReadToEndAsync(server.Input);
        await Task.Run(async () =>
        {
            var output = client.Output;
            for (var i = 0; i < pieces.Length - 1; i++)
            {
                // Asking for the whole piece at once: a hint above a window is served all the same.
                var memory = output.GetMemory(pieces[i].Length);
                Assert.True(memory.Length >= pieces[i].Length);
                pieces[i].CopyTo(memory);
                output.Advance(pieces[i].Length);
                if (i % 2 == 0)
                {
                    await output.FlushAsync();
                }
            }

            // Written, never flushed: closing the link sends it before the end of the stream.
            pieces[^1].CopyTo(output.GetSpan());
            output.Advance(pieces[^1].Length);
            await client.DisposeAsync();
        }).WaitAsync(s_timeout);

        Assert.Equal(expected, await received.WaitAsync(s_timeout));
    }

    [Fact]
    public async Task Whole_writes_between_span_writes_arrive_whole_and_in_order()
    {
        var (listener, client, server) = await ConnectPairAsync();
        await using var _ = listener;
        await using var __ = server;
        var capacity = WindowBytes - PacketHeader.Bytes;
        var pieces = RandomPieces(16, 10, capacity, 0, 1, (3 * capacity) + 100, capacity - 1, 5000, 7, 2 * capacity);
        var expected = pieces.SelectMany(piece => piece).ToArray();

        var received = ReadToEndAsync(server.Input);
        await Task.Run(async () =>
        {
            var output = client.Output;
            for (var i = 0; i < pieces.Length; i++)
            {
                if (i % 3 == 1)
                {
                    // Written through a span and left unflushed: the next whole write goes out after it.
                    pieces[i].CopyTo(output.GetMemory(pieces[i].Length));
                    output.Advance(pieces[i].Length);
                }
                else
                {
                    // Written and handed over in one call.
                    var flushed = await output.WriteAsync(pieces[i]);
                    Assert.False(flushed.IsCompleted);
                }
            }

            await client.DisposeAsync();
        }).WaitAsync(s_timeout);

        Assert.Equal(expected, await received.WaitAsync(s_timeout));
    }

    [Fact]
    public async Task After_the_link_failed_a_write_goes_nowhere_and_its_flush_fails_as_disconnected()
    {
        var (listener, client, server) = await ConnectPairAsync();
        await using var _ = listener;
        await using var __ = client;
        await using var ___ = server;

        server.Abort();
        var ended = await Record.ExceptionAsync(() => ReadToEndAsync(client.Input).WaitAsync(s_timeout));
        Assert.Equal(RpcStatusCode.Disconnected, Assert.IsType<RpcException>(ended).StatusCode);

        var span = client.Output.GetSpan(2 * WindowBytes);
        Assert.True(span.Length >= 2 * WindowBytes);
        client.Output.Advance(2 * WindowBytes);
        var flushed = await Record.ExceptionAsync(async () => await client.Output.FlushAsync());
        Assert.Equal(RpcStatusCode.Disconnected, Assert.IsType<RpcException>(flushed).StatusCode);

        // A write handed over in one call fails the same way.
        var written = await Record.ExceptionAsync(async () => await client.Output.WriteAsync(new byte[100]));
        Assert.Equal(RpcStatusCode.Disconnected, Assert.IsType<RpcException>(written).StatusCode);
    }

    [Fact]
    public async Task A_completed_output_ends_the_peers_stream_and_refuses_further_writes()
    {
        var (listener, client, server) = await ConnectPairAsync();
        await using var _ = listener;
        await using var __ = client;
        await using var ___ = server;

        new byte[] { 1, 2, 3 }.CopyTo(client.Output.GetSpan());
        client.Output.Advance(3);
        var received = ReadToEndAsync(server.Input);
        await Task.Run(() => client.Output.Complete()).WaitAsync(s_timeout);

        Assert.Equal(new byte[] { 1, 2, 3 }, await received.WaitAsync(s_timeout));
        Assert.Throws<InvalidOperationException>(() => client.Output.GetSpan());
    }

    [Fact]
    public async Task Closing_while_a_write_holds_a_span_waits_for_it_then_sends_it_before_the_end_of_the_stream()
    {
        var (listener, client, server) = await ConnectPairAsync();
        await using var _ = listener;
        await using var __ = server;
        var received = ReadToEndAsync(server.Input);

        // The write holds the writer's gate from GetSpan to Advance; the close must wait for it.
        var span = client.Output.GetSpan(5);
        var closing = client.DisposeAsync().AsTask();
        Assert.False(closing.IsCompleted);

        new byte[] { 5, 4, 3, 2, 1 }.CopyTo(span);
        client.Output.Advance(5);
        await closing.WaitAsync(s_timeout);
        Assert.Equal(new byte[] { 5, 4, 3, 2, 1 }, await received.WaitAsync(s_timeout));
    }

    private static byte[][] RandomPieces(int seed, params int[] lengths)
    {
        var random = new Random(seed);
        return lengths.Select(length => { var piece = new byte[length]; random.NextBytes(piece); return piece; }).ToArray();
    }

    [Fact]
    public async Task Disposing_a_link_whose_peer_already_closed_does_not_wait_out_the_peer_timeout()
    {
        // A peer timeout far beyond the test's bound: a dispose that waited for it would fail here.
        var (listener, client, server) = await ConnectPairAsync(TimeSpan.FromHours(1));
        await using var _ = listener;
        var received = ReadToEndAsync(server.Input);
        await client.DisposeAsync().AsTask().WaitAsync(s_timeout);
        Assert.Empty(await received.WaitAsync(s_timeout));

        // The peer is gone, so this side's link stops and takes its writer for good; its own close then
        // has nothing to send and must not wait for the writer (it used to, for the whole peer timeout).
        await server.DisposeAsync().AsTask().WaitAsync(s_timeout);
    }

    private static Task<(RpcLinkListener Listener, RpcLink Client, RpcLink Server)> ConnectPairAsync(TimeSpan? peerTimeout = null)
    {
        var options = new SharedMemoryOptions { WindowBytes = WindowBytes, WindowsPerDirection = Windows };
        if (peerTimeout is { } timeout)
        {
            options.PeerResponseTimeout = timeout;
        }

        return LinkPair.ConnectAsync(options, s_timeout);
    }

    private static Task<byte[]> ReadToEndAsync(System.IO.Pipelines.PipeReader input) => LinkPair.ReadToEndAsync(input);
}
