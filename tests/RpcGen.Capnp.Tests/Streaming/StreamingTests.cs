using System.Security.Cryptography;

namespace RpcGen.Capnp.Tests.Streaming;

/// <summary>
/// Streams over Cap'n Proto between generated C# peers, over TCP and Unix sockets: streamed results and
/// parameters of items and of bytes, empty streams, errors from either side mid-stream, cancellation.
/// </summary>
public sealed class StreamingTests
{
    private static readonly TimeSpan Timeout = StreamPair.Timeout;

    public static TheoryData<string> Transports => StreamPair.Transports;

    [Theory]
    [MemberData(nameof(Transports))]
    public async Task A_streamed_result_of_structs_arrives_in_order(string transport)
    {
        await using var pair = await StreamPair.StartAsync(transport);

        var readings = await pair.Streams.ReadingsAsync(200).ToListAsync().AsTask().WaitAsync(Timeout);

        Assert.Equal(200, readings.Count);
        Assert.Equal(Enumerable.Range(0, 200).Select(i => new Reading(i, i * 0.5, "sensor-" + i)), readings);
    }

    [Theory]
    [MemberData(nameof(Transports))]
    public async Task An_empty_streamed_result_and_an_empty_streamed_parameter_end_at_once(string transport)
    {
        await using var pair = await StreamPair.StartAsync(transport);

        Assert.Empty(await pair.Streams.ReadingsAsync(0).ToListAsync().AsTask().WaitAsync(Timeout));
        Assert.Equal(new Summary("none", 0, 0), await pair.Streams.UploadAsync("none", AsyncEnumerable.Empty<Reading>()).WaitAsync(Timeout));
        await pair.Streams.RecordAsync(AsyncEnumerable.Empty<int>()).WaitAsync(Timeout);
        Assert.Empty(await pair.Service.Recorded.Task.WaitAsync(Timeout));
        await using var download = await pair.Streams.DownloadAsync(0).WaitAsync(Timeout);
        Assert.Equal(0, await download.ReadAsync(new byte[16]).AsTask().WaitAsync(Timeout));
    }

    [Theory]
    [MemberData(nameof(Transports))]
    public async Task A_streamed_parameter_reaches_the_implementation_and_end_answers_with_its_result(string transport)
    {
        await using var pair = await StreamPair.StartAsync(transport);
        var readings = Enumerable.Range(0, 1000).Select(i => new Reading(i, i, "r" + i)).ToList();

        var summary = await pair.Streams.UploadAsync("batch", readings.ToAsyncEnumerable()).WaitAsync(Timeout);

        Assert.Equal(new Summary("batch", 1000, readings.Sum(r => r.Value)), summary);
        Assert.Equal(5050, await pair.Streams.SumAsync(AsyncEnumerable.Range(1, 100), failAfter: -1).WaitAsync(Timeout));
        await pair.Streams.RecordAsync(AsyncEnumerable.Range(7, 5)).WaitAsync(Timeout);
        var recorded = await pair.Service.Recorded.Task.WaitAsync(Timeout);
        Assert.Equal(new[] { 7, 8, 9, 10, 11 }, recorded);
    }

    [Theory]
    [MemberData(nameof(Transports))]
    public async Task Bytes_stream_down_and_up_intact(string transport)
    {
        await using var pair = await StreamPair.StartAsync(transport);
        const long length = (5L << 20) + 123;

        await using (var download = await pair.Streams.DownloadAsync(length).WaitAsync(Timeout))
        {
            var buffer = new byte[100_000];
            long position = 0;
            int read;
            while ((read = await download.ReadAsync(buffer).AsTask().WaitAsync(Timeout)) > 0)
            {
                for (var i = 0; i < read; i++)
                {
                    Assert.Equal(StreamsService.Pattern(position + i), buffer[i]);
                }

                position += read;
            }

            Assert.Equal(length, position);
        }

        var content = new byte[(3 << 20) + 7];
        new Random(17).NextBytes(content);
        var stored = await pair.Streams.StoreAsync("blob", new MemoryStream(content)).WaitAsync(Timeout);
        Assert.Equal($"blob:{content.Length}:{Convert.ToHexString(SHA256.HashData(content))}", stored);
    }

    [Theory]
    [MemberData(nameof(Transports))]
    public async Task A_server_error_mid_stream_reaches_the_client_after_the_items_before_it(string transport)
    {
        await using var pair = await StreamPair.StartAsync(transport);
        var received = new List<int>();

        var error = await Assert.ThrowsAsync<RpcException>(async () =>
        {
            await foreach (var item in pair.Streams.CountAsync(10, 100, failAfter: 3).WithCancellation(default))
            {
                received.Add(item);
            }
        }).WaitAsync(Timeout);

        Assert.Equal(new[] { 10, 11, 12 }, received);
        Assert.Contains("count failed after 3 items", error.Message);

        // A download that fails before its first byte fails the call itself.
        var missing = await Assert.ThrowsAsync<RpcException>(() => pair.Streams.DownloadAsync(-1)).WaitAsync(Timeout);
        Assert.Contains("no such download", missing.Message);
    }

    [Theory]
    [MemberData(nameof(Transports))]
    public async Task A_server_that_fails_while_reading_a_streamed_parameter_fails_the_clients_call(string transport)
    {
        await using var pair = await StreamPair.StartAsync(transport);

        var error = await Assert.ThrowsAsync<RpcException>(() => pair.Streams.SumAsync(AsyncEnumerable.Range(0, 100_000), failAfter: 3)).WaitAsync(Timeout);

        Assert.Contains("sum refused item 3", error.Message);

        // The connection goes on.
        Assert.Equal(6, await pair.Streams.SumAsync(AsyncEnumerable.Range(1, 3), failAfter: -1).WaitAsync(Timeout));
    }

    [Theory]
    [MemberData(nameof(Transports))]
    public async Task A_client_error_mid_stream_stays_the_clients_and_the_server_sees_the_stream_abandoned(string transport)
    {
        await using var pair = await StreamPair.StartAsync(transport);

        var error = await Assert.ThrowsAsync<InvalidOperationException>(() => pair.Streams.UploadAsync("broken", FailingReadings(3))).WaitAsync(Timeout);

        Assert.Equal("the client's readings broke", error.Message);
        var seen = await pair.Service.UploadEnded.Task.WaitAsync(Timeout);
        var abandoned = Assert.IsType<RpcException>(seen);
        Assert.Contains("without ending it", abandoned.Message);
    }

    [Theory]
    [MemberData(nameof(Transports))]
    public async Task Leaving_a_streamed_result_early_stops_the_servers_producer(string transport)
    {
        await using var pair = await StreamPair.StartAsync(transport);
        var taken = 0;

        await foreach (var item in pair.Streams.CountAsync(0, int.MaxValue, failAfter: -1).WithCancellation(default))
        {
            if (++taken == 5)
            {
                break;
            }
        }

        await pair.Service.CountStopped.Task.WaitAsync(Timeout);
        Assert.Equal(new Summary("after", 1, 2), await pair.Streams.UploadAsync("after", new[] { new Reading(1, 2, "x") }.ToAsyncEnumerable()).WaitAsync(Timeout));
    }

    [Theory]
    [MemberData(nameof(Transports))]
    public async Task Cancelling_the_callers_token_ends_a_streamed_result_on_both_sides(string transport)
    {
        await using var pair = await StreamPair.StartAsync(transport);
        using var cancellation = new CancellationTokenSource();
        var taken = 0;

        await Assert.ThrowsAnyAsync<OperationCanceledException>(async () =>
        {
            await foreach (var item in pair.Streams.CountAsync(0, int.MaxValue, failAfter: -1, cancellation.Token))
            {
                if (++taken == 3)
                {
                    await cancellation.CancelAsync();
                }
            }
        }).WaitAsync(Timeout);

        await pair.Service.CountStopped.Task.WaitAsync(Timeout);
    }

    private static async IAsyncEnumerable<Reading> FailingReadings(int before)
    {
        for (var i = 0; i < before; i++)
        {
            await Task.Yield();
            yield return new Reading(i, i, "ok");
        }

        throw new InvalidOperationException("the client's readings broke");
    }
}
