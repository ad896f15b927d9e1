using System.Security.Cryptography;

namespace RpcGen.Transport.Message.Tests;

/// <summary>Every stream shape over TCP, a Unix socket and an in-memory pipe.</summary>
public class StreamScenarioTests
{
    private static readonly TimeSpan Timeout = TransportFixture.Timeout;

    [Theory]
    [MemberData(nameof(TransportFixture.Transports), MemberType = typeof(TransportFixture))]
    public async Task A_server_stream_delivers_every_item_in_order(string transport)
    {
        await using var fixture = await TransportFixture.StartAsync(transport);
        var service = fixture.Client.GetService<IStreamingService>();

        var items = await service.CountAsync(10, 5000).ToListAsync().AsTask().WaitAsync(Timeout);

        Assert.Equal(Enumerable.Range(10, 5000), items);
    }

    [Theory]
    [MemberData(nameof(TransportFixture.Transports), MemberType = typeof(TransportFixture))]
    public async Task Streams_started_while_their_connection_closes_all_end(string transport)
    {
        // A connection that closed between a streaming call's entry in the call table and the
        // creation of its response stream failed a call that had no stream yet, and the stream's
        // reader then waited for ever (found by the fault sweep: "a call did not end"). Each round
        // starts streams from other threads while the client closes, so some land in that window.
        await using var fixture = await TransportFixture.StartAsync(transport);
        for (var round = 0; round < 20; round++)
        {
            var client = await RpcClient.ConnectAsync(fixture.Address, TransportFixture.ClientOptions(fixture.Address)).WaitAsync(Timeout);
            var service = client.GetService<IStreamingService>();
            var go = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
            var streams = Enumerable.Range(0, 16).Select(_ => Task.Run(async () =>
            {
                await go.Task;
                try
                {
                    await foreach (var item in service.CountAsync(0, 100))
                    {
                    }
                }
                catch (RpcException)
                {
                    // Refused or failed by the close: what matters is that it ended.
                }
            })).ToArray();

            go.SetResult();
            await client.DisposeAsync();
            await Task.WhenAll(streams).WaitAsync(Timeout);
        }

        // The server still serves.
        Assert.Equal(Enumerable.Range(0, 10), await fixture.Client.GetService<IStreamingService>().CountAsync(0, 10).ToListAsync().AsTask().WaitAsync(Timeout));
    }

    [Theory]
    [MemberData(nameof(TransportFixture.Transports), MemberType = typeof(TransportFixture))]
    public async Task A_server_stream_of_small_and_large_items_keeps_their_order_and_bytes(string transport)
    {
        // Small items travel batched in one buffer and large ones on their own: the order across
        // both, and each item's bytes, must survive.
        await using var fixture = await TransportFixture.StartAsync(transport);
        var service = fixture.Client.GetService<IStreamingService>();

        var items = await service.MixedSizesAsync(3000).ToListAsync().AsTask().WaitAsync(Timeout);

        Assert.Equal(3000, items.Count);
        for (var i = 0; i < items.Count; i++)
        {
            Assert.Equal(StreamingService.MixedSizes[i % StreamingService.MixedSizes.Length], items[i].Length);
            Assert.All(items[i], b => Assert.Equal((byte)i, b));
        }
    }

    [Theory]
    [MemberData(nameof(TransportFixture.Transports), MemberType = typeof(TransportFixture))]
    public async Task A_client_stream_is_consumed_and_answered_once(string transport)
    {
        await using var fixture = await TransportFixture.StartAsync(transport);
        var service = fixture.Client.GetService<IStreamingService>();

        var sum = await service.SumAsync(Numbers(1, 20_000)).WaitAsync(Timeout);

        Assert.Equal(20_000L * 20_001 / 2, sum);
    }

    [Theory]
    [MemberData(nameof(TransportFixture.Transports), MemberType = typeof(TransportFixture))]
    public async Task A_duplex_stream_answers_each_line_before_the_next_is_sent(string transport)
    {
        await using var fixture = await TransportFixture.StartAsync(transport);
        var service = fixture.Client.GetService<IStreamingService>();
        var outbound = Channel.CreateUnbounded<string>();

        await using var replies = service.ShoutAsync(outbound.Reader.ReadAllAsync()).GetAsyncEnumerator();
        foreach (var word in new[] { "ping", "pong", "done" })
        {
            // Ping-pong: the next line is only written once the reply to this one arrived.
            await outbound.Writer.WriteAsync(word);
            Assert.True(await replies.MoveNextAsync().AsTask().WaitAsync(Timeout));
            Assert.Equal(word.ToUpperInvariant(), replies.Current);
        }

        outbound.Writer.Complete();
        Assert.False(await replies.MoveNextAsync().AsTask().WaitAsync(Timeout));
    }

    [Theory]
    [MemberData(nameof(TransportFixture.Transports), MemberType = typeof(TransportFixture))]
    public async Task Raw_byte_streams_move_bulk_data_both_ways_intact(string transport)
    {
        const long size = 8 * 1024 * 1024 + 123;
        await using var fixture = await TransportFixture.StartAsync(transport);
        var service = fixture.Client.GetService<IStreamingService>();

        await using (var download = await service.DownloadAsync(size).WaitAsync(Timeout))
        {
            using var sha = SHA256.Create();
            Assert.Equal(PatternStream.Sha256Hex(size), Convert.ToHexString(await sha.ComputeHashAsync(download).WaitAsync(Timeout)));
        }

        var uploaded = await service.UploadAsync(new PatternStream(size)).WaitAsync(Timeout);
        Assert.Equal(PatternStream.Sha256Hex(size), uploaded);
    }

    [Theory]
    [MemberData(nameof(TransportFixture.Transports), MemberType = typeof(TransportFixture))]
    public async Task Concurrent_byte_streams_on_one_connection_each_arrive_intact(string transport)
    {
        // Several consumers and a producer share one connection at once: over shm each of them
        // polls the link while it waits, so any of them may read (and queue) the others' chunks
        // and credit; every stream must still get exactly its own bytes.
        long[] sizes = [3 * 1024 * 1024 + 7, 2 * 1024 * 1024 + 65_536, 5 * 1024 * 1024 + 1];
        await using var fixture = await TransportFixture.StartAsync(transport);
        var service = fixture.Client.GetService<IStreamingService>();

        async Task<string> DownloadHashAsync(long size)
        {
            await using var download = await service.DownloadAsync(size);
            using var sha = SHA256.Create();
            return Convert.ToHexString(await sha.ComputeHashAsync(download));
        }

        var downloads = sizes.Select(size => Task.Run(() => DownloadHashAsync(size))).ToArray();
        var upload = Task.Run(() => service.UploadAsync(new PatternStream(sizes[0])));
        var hashes = await Task.WhenAll(downloads).WaitAsync(Timeout);

        Assert.Equal(sizes.Select(PatternStream.Sha256Hex), hashes);
        Assert.Equal(PatternStream.Sha256Hex(sizes[0]), await upload.WaitAsync(Timeout));
    }

    [Theory]
    [MemberData(nameof(TransportFixture.Transports), MemberType = typeof(TransportFixture))]
    public async Task A_burst_of_small_items_arrives_whole_and_in_order(string transport)
    {
        // The producer never waits, so items arrive by the thousand per read and reach the consumer
        // in batches; none may be lost, repeated or reordered across batch boundaries.
        const int count = 200_000;
        await using var fixture = await TransportFixture.StartAsync(transport);
        var service = fixture.Client.GetService<IStreamingService>();

        var received = await CheckSequenceAsync(service.BurstAsync(count)).WaitAsync(Timeout);

        Assert.Equal(count, received);
    }

    [Theory]
    [MemberData(nameof(TransportFixture.Transports), MemberType = typeof(TransportFixture))]
    public async Task Cancelling_a_stream_mid_burst_drops_the_items_in_flight_and_keeps_the_connection(string transport)
    {
        // The server keeps sending until the Cancel reaches it, so items for the cancelled call are
        // still arriving (and queued, unread, at the consumer) when it ends here. They must be
        // dropped quietly: taken for a peer that broke the protocol they would close the connection.
        await using var fixture = await TransportFixture.StartAsync(transport);
        var service = fixture.Client.GetService<IStreamingService>();
        var scenario = fixture.Client.GetService<IScenarioService>();

        for (var round = 0; round < 10; round++)
        {
            using var cts = new CancellationTokenSource();
            await using var items = service.BurstAsync(int.MaxValue, cts.Token).GetAsyncEnumerator();
            for (var i = 0; i < 1000; i++)
            {
                Assert.True(await items.MoveNextAsync().AsTask().WaitAsync(Timeout));
                Assert.Equal(i, items.Current);
            }

            cts.Cancel();
            var next = 1000;
            await Assert.ThrowsAnyAsync<OperationCanceledException>(async () =>
            {
                // What was queued before the cancel may still be handed out, in order.
                while (await items.MoveNextAsync().AsTask().WaitAsync(Timeout))
                {
                    Assert.Equal(next++, items.Current);
                }
            });

            Assert.Equal(2 * round, await scenario.AddAsync(round, round).AsTask().WaitAsync(Timeout));
        }
    }

    [Theory]
    [MemberData(nameof(TransportFixture.Transports), MemberType = typeof(TransportFixture))]
    public async Task Leaving_await_foreach_early_cancels_the_servers_enumeration(string transport)
    {
        await using var fixture = await TransportFixture.StartAsync(transport);
        var service = fixture.Client.GetService<IStreamingService>();

        var seen = 0;
        await foreach (var item in service.ProduceAsync("early-exit", 16))
        {
            if (++seen == 3)
            {
                break;
            }
        }

        await fixture.Streaming.ProducerCancelled("early-exit").WaitAsync(Timeout);
        Assert.Equal(3, seen);
        Assert.Equal(3, await service.SumAsync(Numbers(1, 2)).WaitAsync(Timeout));
    }

    [Theory]
    [MemberData(nameof(TransportFixture.Transports), MemberType = typeof(TransportFixture))]
    public async Task Cancelling_the_callers_token_ends_the_stream_on_both_sides(string transport)
    {
        await using var fixture = await TransportFixture.StartAsync(transport);
        var service = fixture.Client.GetService<IStreamingService>();
        using var cts = new CancellationTokenSource();

        await using var items = service.ProduceAsync("token", 16, cts.Token).GetAsyncEnumerator();
        Assert.True(await items.MoveNextAsync().AsTask().WaitAsync(Timeout));
        cts.Cancel();

        await Assert.ThrowsAnyAsync<OperationCanceledException>(async () =>
        {
            while (await items.MoveNextAsync().AsTask().WaitAsync(Timeout))
            {
            }
        });
        await fixture.Streaming.ProducerCancelled("token").WaitAsync(Timeout);
    }

    [Theory]
    [MemberData(nameof(TransportFixture.Transports), MemberType = typeof(TransportFixture))]
    public async Task A_server_exception_mid_stream_arrives_after_the_items_sent_before_it(string transport)
    {
        await using var fixture = await TransportFixture.StartAsync(transport);
        var service = fixture.Client.GetService<IStreamingService>();
        var received = new List<Chunk>();

        var error = await Assert.ThrowsAsync<RpcException>(async () =>
        {
            await foreach (var chunk in service.FailAfterAsync(3).WithCancellation(TestContext.Current.CancellationToken))
            {
                received.Add(chunk);
            }
        }).WaitAsync(Timeout);

        Assert.Equal([0, 1, 2], received.Select(c => c.Index));
        Assert.Equal(RpcStatusCode.Failed, error.StatusCode);
        Assert.Contains("failed after 3 chunks", error.Message);
    }

    [Theory]
    [MemberData(nameof(TransportFixture.Transports), MemberType = typeof(TransportFixture))]
    public async Task A_disconnect_fails_every_open_stream(string transport)
    {
        await using var fixture = await TransportFixture.StartAsync(transport);
        var service = fixture.Client.GetService<IStreamingService>();
        await using var first = service.ProduceAsync("disconnect-1", 16).GetAsyncEnumerator();
        await using var second = service.ProduceAsync("disconnect-2", 16).GetAsyncEnumerator();
        Assert.True(await first.MoveNextAsync().AsTask().WaitAsync(Timeout));
        Assert.True(await second.MoveNextAsync().AsTask().WaitAsync(Timeout));

        await fixture.Server.StopAsync(TimeSpan.Zero).WaitAsync(Timeout);

        foreach (var stream in new[] { first, second })
        {
            var error = await Assert.ThrowsAsync<RpcException>(async () =>
            {
                while (await stream.MoveNextAsync().AsTask().WaitAsync(Timeout))
                {
                }
            });
            Assert.Equal(RpcStatusCode.Disconnected, error.StatusCode);
        }
    }

    [Theory]
    [MemberData(nameof(TransportFixture.Transports), MemberType = typeof(TransportFixture))]
    public async Task A_stalled_consumer_stops_the_producer_within_the_window(string transport)
    {
        const int window = 256 * 1024;
        const int itemBytes = 32 * 1024;
        var limits = new RpcLimits { StreamWindowBytes = window };
        await using var fixture = await TransportFixture.StartAsync(transport, limits, new RpcClientOptions { Limits = limits });
        var service = fixture.Client.GetService<IStreamingService>();
        var produced = fixture.Streaming.Produced("stall");

        await using var items = service.ProduceAsync("stall", itemBytes).GetAsyncEnumerator();
        Assert.True(await items.MoveNextAsync().AsTask().WaitAsync(Timeout));

        // The consumer took one item and stops. The producer spends the window the receiver granted,
        // then parks for credit that does not come: one item consumed is no reason to grant much more.
        var (sent, granted) = await WaitForCreditParkAsync(fixture.Logs);
        Assert.InRange(granted, window, window + (2 * itemBytes));
        Assert.True(sent >= granted, $"the producer parked with credit left ({sent} bytes sent, {granted} granted)");

        // The window holds about window / item size items; one more may be serialized and waiting
        // for credit, and one may overshoot. Parked, the producer is not running, so the count read
        // after the park is where it stopped.
        var bound = (window / itemBytes) + 3;
        var count = 0;
        while (produced.TryRead(out var n))
        {
            count = n;
        }

        Assert.InRange(count, window / itemBytes, bound);

        // Reading again lets it go on.
        for (var i = 0; i < 3 * bound; i++)
        {
            Assert.True(await items.MoveNextAsync().AsTask().WaitAsync(Timeout));
        }

        Assert.True(await WaitForCount(produced, 3 * bound).WaitAsync(Timeout));
    }

    [Theory]
    [MemberData(nameof(TransportFixture.Transports), MemberType = typeof(TransportFixture))]
    public async Task Each_read_of_a_received_stream_has_its_own_token_and_a_cancelled_read_loses_nothing(string transport)
    {
        await using var fixture = await TransportFixture.StartAsync(transport);
        var service = fixture.Client.GetService<IStreamingService>();
        var drip = fixture.Streaming.Drip("reads");
        await using var stream = await service.DripAsync("reads").WaitAsync(Timeout);
        var buffer = new byte[16];

        // A token that fires after its read finished must not touch later reads: the first read
        // used to hand its token to the whole transfer.
        using (var first = new CancellationTokenSource())
        {
            Assert.True(drip.TryWrite([1, 2, 3]));
            Assert.Equal(3, await stream.ReadAsync(buffer, first.Token).AsTask().WaitAsync(Timeout));
            await first.CancelAsync();
        }

        // A read whose own token fires while it waits ends with OperationCanceledException...
        using var second = new CancellationTokenSource();
        var waiting = stream.ReadAsync(buffer, second.Token).AsTask();
        Assert.False(waiting.IsCompleted, "a read completed with nothing sent");
        await second.CancelAsync();
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => waiting.WaitAsync(Timeout));

        // ...and the transfer goes on: the next bytes reach the next read, then the end.
        Assert.True(drip.TryWrite([4, 5]));
        Assert.Equal(2, await stream.ReadAsync(buffer).AsTask().WaitAsync(Timeout));
        Assert.Equal(new byte[] { 4, 5 }, buffer[..2]);
        drip.Complete();
        Assert.Equal(0, await stream.ReadAsync(buffer).AsTask().WaitAsync(Timeout));
    }

    [Theory]
    [MemberData(nameof(TransportFixture.Transports), MemberType = typeof(TransportFixture))]
    public async Task Disposing_a_received_stream_while_a_cancelled_read_waits_ends_the_transfer(string transport)
    {
        await using var fixture = await TransportFixture.StartAsync(transport);
        var service = fixture.Client.GetService<IStreamingService>();
        var stream = await service.DripAsync("dispose").WaitAsync(Timeout);
        using var cancel = new CancellationTokenSource();
        var waiting = stream.ReadAsync(new byte[16], cancel.Token).AsTask();
        await cancel.CancelAsync();
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => waiting.WaitAsync(Timeout));

        // Nothing more is sent, so only disposal can end the step the read left running.
        await stream.DisposeAsync().AsTask().WaitAsync(Timeout);
        await Assert.ThrowsAsync<ObjectDisposedException>(async () => _ = await stream.ReadAsync(new byte[16]));

        // The server learns the transfer was abandoned and disposes its stream, with nothing more
        // sent; the connection goes on serving calls.
        await fixture.Streaming.DripEnded("dispose").WaitAsync(Timeout);
        var scenario = fixture.Client.GetService<IScenarioService>();
        Assert.Equal(5, await scenario.AddAsync(2, 3).AsTask().WaitAsync(Timeout));
    }

    [Theory]
    [MemberData(nameof(TransportFixture.Transports), MemberType = typeof(TransportFixture))]
    public async Task Unary_calls_complete_while_a_bulk_download_is_in_flight(string transport)
    {
        const long size = 256L * 1024 * 1024;
        await using var fixture = await TransportFixture.StartAsync(transport);
        var service = fixture.Client.GetService<IStreamingService>();
        var scenario = fixture.Client.GetService<IScenarioService>();

        await using var download = await service.DownloadAsync(size).WaitAsync(Timeout);
        var buffer = new byte[64 * 1024];
        long read = await download.ReadAsync(buffer, TestContext.Current.CancellationToken);
        var reading = Task.Run(async () =>
        {
            int n;
            while ((n = await download.ReadAsync(buffer)) > 0)
            {
                Interlocked.Add(ref read, n);
            }
        });

        for (var i = 0; i < 20; i++)
        {
            Assert.Equal(2 * i, await scenario.AddAsync(i, i).AsTask().WaitAsync(Timeout));
        }

        // Every unary call finished while the transfer was still going: it did not starve them.
        Assert.False(reading.IsCompleted, $"the download finished first ({Interlocked.Read(ref read)} bytes)");
        await reading.WaitAsync(TimeSpan.FromMinutes(2));
        Assert.Equal(size, read);
    }

    /// <summary>
    /// Waits for the server's stream producer to park for credit after the receiver's first grant
    /// (it may also have parked before that grant arrived, with nothing sent), and returns what it had
    /// sent and been granted then, as its log line says. The fixture's logs are its server's alone.
    /// </summary>
    private static async Task<(long Sent, long Granted)> WaitForCreditParkAsync(CapturingLoggerProvider logs)
    {
        const string parkText = " waits for credit: ";
        for (var parks = 1; ; parks++)
        {
            await logs.WaitForCountAsync(parkText, parks, Timeout);
            var line = logs.Entries.Select(e => e.Message).Where(m => m.Contains(parkText, StringComparison.Ordinal)).ElementAt(parks - 1);
            var numbers = System.Text.RegularExpressions.Regex.Match(line, @" waits for credit: (\d+) bytes sent, (\d+) granted$");
            Assert.True(numbers.Success, line);
            var granted = long.Parse(numbers.Groups[2].Value, System.Globalization.CultureInfo.InvariantCulture);
            if (granted > 0)
            {
                return (long.Parse(numbers.Groups[1].Value, System.Globalization.CultureInfo.InvariantCulture), granted);
            }
        }
    }

    private static async Task<bool> WaitForCount(ChannelReader<int> produced, int count)
    {
        await foreach (var n in produced.ReadAllAsync())
        {
            if (n >= count)
            {
                return true;
            }
        }

        return false;
    }

    private static async IAsyncEnumerable<int> Numbers(int from, int to)
    {
        for (var i = from; i <= to; i++)
        {
            if (i % 1000 == 0)
            {
                await Task.Yield();
            }

            yield return i;
        }
    }

    /// <summary>Reads <paramref name="items"/> to the end, checking it counts up from zero; returns how many arrived.</summary>
    private static async Task<int> CheckSequenceAsync(IAsyncEnumerable<int> items)
    {
        var expected = 0;
        await foreach (var item in items)
        {
            if (item != expected)
            {
                Assert.Fail($"item {expected} was {item}");
            }

            expected++;
        }

        return expected;
    }
}
