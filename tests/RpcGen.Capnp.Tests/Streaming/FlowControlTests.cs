namespace RpcGen.Capnp.Tests.Streaming;

/// <summary>
/// Flow control of Cap'n Proto streams: a consumer that stalls stops its producer at the window, per
/// stream and per connection; a producer that ignores flow control, an oversized item and a write after
/// <c>end</c> fail the stream with a clear error and leave the connection working.
/// </summary>
public sealed class FlowControlTests
{
    private const int Window = 64 * 1024;
    private const int BlockSize = 4096;

    // Before the consumer resumes, at most the window's worth of blocks are unanswered, plus the one it
    // took, plus the one the producer holds while it waits for room.
    private const int MostBlocksBeforeResume = Window / BlockSize + 2;

    private static readonly TimeSpan Timeout = StreamPair.Timeout;

    public static TheoryData<string> Transports => StreamPair.Transports;

    [Theory]
    [MemberData(nameof(Transports))]
    public async Task A_stalled_consumer_stops_the_producer_at_the_window(string transport)
    {
        await using var pair = await StreamPair.StartAsync(transport, new CapnpConnectionOptions { StreamWindowBytes = Window });
        var producer = pair.Service.Producer;
        producer.InFlightProbe = () => pair.ServerConnection.StreamBytesInFlight;
        await using var blocks = pair.Streams.BlocksAsync(BlockSize).GetAsyncEnumerator();
        Assert.True(await blocks.MoveNextAsync().AsTask().WaitAsync(Timeout));

        // The consumer takes nothing more: the producer runs until the window is full.
        await producer.WhenProducedAsync(Window / BlockSize - 2).WaitAsync(Timeout);
        var inFlight = pair.ServerConnection.StreamBytesInFlight;
        Assert.InRange(inFlight, 1, Window);

        producer.Resume();
        for (var i = 0; i < 100; i++)
        {
            Assert.True(await blocks.MoveNextAsync().AsTask().WaitAsync(Timeout));
            Assert.Equal(BlockSize, blocks.Current.Length);
        }

        // Every block past the window was produced only after the consumer came back.
        Assert.All(producer.Log.Where(entry => entry.Index > MostBlocksBeforeResume), entry => Assert.True(entry.AfterResume, $"block {entry.Index} was produced while the consumer stalled"));
        Assert.InRange(producer.MaxInFlight, 0, Window);
    }

    [Theory]
    [MemberData(nameof(Transports))]
    public async Task Streams_of_one_connection_share_its_cap(string transport)
    {
        // Two stalled streams could hold two windows; the connection lets them hold one and a half.
        const int cap = Window + (Window / 2);
        var options = new CapnpConnectionOptions { StreamWindowBytes = Window, MaxStreamBytesInFlight = cap };
        await using var pair = await StreamPair.StartAsync(transport, options);
        var producer = pair.Service.Producer;
        producer.InFlightProbe = () => pair.ServerConnection.StreamBytesInFlight;
        await using var first = pair.Streams.BlocksAsync(BlockSize).GetAsyncEnumerator();
        await using var second = pair.Streams.BlocksAsync(BlockSize).GetAsyncEnumerator();
        Assert.True(await first.MoveNextAsync().AsTask().WaitAsync(Timeout));
        Assert.True(await second.MoveNextAsync().AsTask().WaitAsync(Timeout));

        await producer.WhenProducedAsync((cap / BlockSize) - 3).WaitAsync(Timeout);
        Assert.InRange(pair.ServerConnection.StreamBytesInFlight, 1, cap);

        producer.Resume();
        for (var i = 0; i < 40; i++)
        {
            Assert.True(await first.MoveNextAsync().AsTask().WaitAsync(Timeout));
            Assert.True(await second.MoveNextAsync().AsTask().WaitAsync(Timeout));
        }

        // Past the cap's worth (plus the two blocks taken and the two waiting for room), blocks came only after the consumers did.
        Assert.All(producer.Log.Where(entry => entry.Index > (cap / BlockSize) + 4), entry => Assert.True(entry.AfterResume, $"block {entry.Index} was produced while both consumers stalled"));
        Assert.InRange(producer.MaxInFlight, 0, cap);
    }

    [Theory]
    [MemberData(nameof(Transports))]
    public async Task An_item_larger_than_the_sink_may_hold_fails_the_stream_and_the_connection_goes_on(string transport)
    {
        await using var pair = await StreamPair.StartAsync(transport, new CapnpConnectionOptions { MaxStreamBytesInFlight = Window });
        using var sink = await OpenUploadSinkAsync(pair);

        using var write = sink.NewRequest(StreamsCapnp.UploadReadingsSinkInterfaceId, 0);
        StreamsCapnp.Codec.WriteReading(write.InitParams(0, 1).InitStruct(0, StreamsCapnp.Codec.ReadingDataWords, StreamsCapnp.Codec.ReadingPointerCount), new Reading(1, 1, new string('x', 2 * Window)));
        var error = await Assert.ThrowsAsync<RpcException>(async () => await write.Send().Response.WaitAsync(Timeout));

        Assert.Equal(RpcStatusCode.Overloaded, error.StatusCode);
        Assert.Contains("ahead of its consumer", error.Message);
        var seen = Assert.IsType<RpcException>(await pair.Service.UploadEnded.Task.WaitAsync(Timeout));
        Assert.Equal(RpcStatusCode.Overloaded, seen.StatusCode);
        Assert.Equal(3, await pair.Streams.SumAsync(AsyncEnumerable.Range(1, 2), failAfter: -1).WaitAsync(Timeout));
    }

    [Theory]
    [MemberData(nameof(Transports))]
    public async Task A_write_after_end_fails_with_a_clear_error(string transport)
    {
        await using var pair = await StreamPair.StartAsync(transport);
        using var sink = await OpenUploadSinkAsync(pair);

        using (var end = sink.NewRequest(StreamsCapnp.UploadReadingsSinkInterfaceId, 1))
        {
            end.InitParams(0, 0);
            using var ended = await end.Send().Response.WaitAsync(Timeout);
            Assert.Equal(new Summary("raw", 0, 0), StreamsCapnp.Codec.ReadSummary(ended.Results.ReadStruct(0)));
        }

        using var write = sink.NewRequest(StreamsCapnp.UploadReadingsSinkInterfaceId, 0);
        StreamsCapnp.Codec.WriteReading(write.InitParams(0, 1).InitStruct(0, StreamsCapnp.Codec.ReadingDataWords, StreamsCapnp.Codec.ReadingPointerCount), new Reading(1, 1, "late"));
        var error = await Assert.ThrowsAsync<RpcException>(async () => await write.Send().Response.WaitAsync(Timeout));
        Assert.Contains("write after its end", error.Message);

        using var again = sink.NewRequest(StreamsCapnp.UploadReadingsSinkInterfaceId, 1);
        again.InitParams(0, 0);
        var twice = await Assert.ThrowsAsync<RpcException>(async () => await again.Send().Response.WaitAsync(Timeout));
        Assert.Contains("ended twice", twice.Message);
    }

    // Calls upload the way any Cap'n Proto peer could, with the low-level API: its result is the sink.
    private static async Task<Capability> OpenUploadSinkAsync(StreamPair pair)
    {
        using var request = ((ICapnpProxy)pair.Streams).Capability.NewRequest(StreamsCapnp.InterfaceId, 3);
        request.InitParams(0, 1).WriteText(0, "raw");
        using var response = await request.Send().Response.WaitAsync(Timeout);
        return response.Results.ReadCapability(0) ?? throw new InvalidOperationException("upload returned no sink");
    }
}
