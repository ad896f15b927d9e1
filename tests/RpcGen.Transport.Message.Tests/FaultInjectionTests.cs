namespace RpcGen.Transport.Message.Tests;

/// <summary>
/// The byte stream under a client is cut, truncated, corrupted, shortened, repeated or fragmented at
/// offsets across a real conversation (unary calls, a server stream and a client stream, in
/// flight together), over every transport. Whatever the fault: every call ends within the bound,
/// with its right answer or an <see cref="RpcException"/>; no call runs twice on the server; the
/// server lets go of the connection; and it goes on serving its other client.
/// </summary>
public class FaultInjectionTests
{
    private const int Calls = 12;
    private const int StreamItems = 40;
    private static readonly TimeSpan Timeout = TransportFixture.Timeout;
    private static int s_run;

    public static TheoryData<string> Transports => TransportFixture.Transports;

    [Theory]
    [MemberData(nameof(Transports))]
    public async Task A_connection_cut_or_ended_at_any_byte_fails_only_its_own_calls(string transport)
    {
        await using var fixture = await TransportFixture.StartAsync(transport);
        var (sent, received) = await CleanRunAsync(fixture);

        var runsThatLostCalls = 0;
        foreach (var kind in new[] { FaultKind.Cut, FaultKind.Truncate })
        {
            foreach (var offset in Offsets(sent))
            {
                runsThatLostCalls += (await RunAsync(fixture, new Fault(kind, offset), inbound: null)).Failed > 0 ? 1 : 0;
            }

            foreach (var offset in Offsets(received))
            {
                runsThatLostCalls += (await RunAsync(fixture, outbound: null, new Fault(kind, offset))).Failed > 0 ? 1 : 0;
            }
        }

        // The faults did land inside the conversation, not after it.
        Assert.True(runsThatLostCalls > 0);

        await AssertStillServesAsync(fixture);
    }

    [Theory]
    [MemberData(nameof(Transports))]
    public async Task A_stream_delivered_one_byte_at_a_time_carries_every_call(string transport)
    {
        await using var fixture = await TransportFixture.StartAsync(transport);

        var outcome = await RunAsync(fixture, new Fault(FaultKind.Trickle), new Fault(FaultKind.Trickle));

        Assert.True(outcome.AllSucceeded, outcome.ToString());
    }

    [Theory]
    [InlineData(FaultKind.Corrupt)]
    [InlineData(FaultKind.Drop)]
    [InlineData(FaultKind.Duplicate)]
    public async Task Damaged_bytes_either_way_end_every_call_and_the_server_goes_on(FaultKind kind)
    {
        // A damaged stream can leave both sides waiting for bytes that never come (a dropped byte
        // inside a frame), so these calls carry a deadline: it is the bound, and DeadlineExceeded
        // is one of the clear endings. The server's frame timeout ends its side the same way.
        var limits = new RpcLimits { FrameTimeout = TimeSpan.FromSeconds(5), MinFrameBytesPerSecond = int.MaxValue };
        await using var fixture = await TransportFixture.StartAsync("tcp", limits);
        var (sent, received) = await CleanRunAsync(fixture);

        foreach (var offset in Offsets(sent, points: 4))
        {
            await RunAsync(fixture, new Fault(kind, offset, Count: 3), inbound: null, TimeSpan.FromSeconds(2), exact: false);
        }

        foreach (var offset in Offsets(received, points: 4))
        {
            await RunAsync(fixture, outbound: null, new Fault(kind, offset, Count: 3), TimeSpan.FromSeconds(2), exact: false);
        }

        await AssertStillServesAsync(fixture);
    }

    /// <summary>The byte counts of an undamaged run, which tell where faults land in the conversation.</summary>
    private static async Task<(long Sent, long Received)> CleanRunAsync(TransportFixture fixture)
    {
        var clean = await RunAsync(fixture, outbound: null, inbound: null);
        Assert.True(clean.AllSucceeded, clean.ToString());
        return (clean.Sent, clean.Received);
    }

    // Offsets spread over the conversation, plus the first bytes (inside the hello).
    private static IEnumerable<long> Offsets(long total, int points = 8) =>
        new long[] { 0, 1, 7 }.Concat(Enumerable.Range(1, points).Select(i => total * i / (points + 1))).Distinct();

    private sealed record Outcome(string Fault, int Succeeded, int Failed, long Sent, long Received, string? Errors)
    {
        public bool AllSucceeded => Failed == 0 && Succeeded == Calls + 2;

        public override string ToString() => $"{Fault}: {Succeeded} calls succeeded, {Failed} failed ({Errors}); {Sent} bytes sent, {Received} received.";
    }

    // exact: every answer that arrives must be the right one. Not so for damaged bytes: the message
    // protocol has no checksum of its own (TCP's, and TLS's MAC, guard the real transports), so a
    // flipped byte inside an argument can reach the handler as another value; what holds for them
    // is that every call ends and nothing runs twice.
    private static async Task<Outcome> RunAsync(TransportFixture fixture, Fault? outbound, Fault? inbound, TimeSpan? deadline = null, bool exact = true)
    {
        var run = Interlocked.Increment(ref s_run) * 1000;
        var description = $"{fixture.Address} outbound {outbound?.ToString() ?? "clean"}, inbound {inbound?.ToString() ?? "clean"}";
        var address = FaultLinkProvider.Instance.Plan(fixture.Address, outbound, inbound);
        var options = TransportFixture.ClientOptions(fixture.Address, new RpcClientOptions { DefaultTimeout = deadline })!;
        var succeeded = 0;
        var errors = new List<string>();

        RpcClient client;
        try
        {
            client = await RpcClient.ConnectAsync(address, options).WaitAsync(Timeout);
        }
        catch (RpcException ex)
        {
            // Damage inside the hello: the connect itself fails, clearly.
            errors.Add($"connect: {ex.StatusCode}");
            await fixture.WaitUntilAsync(() => fixture.Server.ConnectionCount == 1, $"the server to let go after a failed connect ({description})");
            return new Outcome(description, 0, Calls + 2, 0, 0, string.Join(", ", errors));
        }

        await using (client)
        {
            var service = client.GetService<IScenarioService>();
            var streaming = client.GetService<IStreamingService>();
            var unary = Enumerable.Range(0, Calls).Select(i => service.AddAsync(run + i, 7).AsTask()).ToArray();
            var download = CollectAsync(streaming.CountAsync(run, StreamItems));
            var upload = streaming.SumAsync(Numbers(run, StreamItems));

            for (var i = 0; i < Calls; i++)
            {
                if (await EndAsync(unary[i], description, errors) is (true, var sum))
                {
                    Assert.True(!exact || sum == run + i + 7, $"{description}: call {i} answered {sum}.");
                    succeeded++;
                }
            }

            if (await EndAsync(download, description, errors) is (true, var items))
            {
                // A stream that finishes has every item, once, in order.
                Assert.True(!exact || items.SequenceEqual(Enumerable.Range(run, StreamItems)), $"{description}: the stream delivered {string.Join(",", items)}.");
                succeeded++;
            }

            if (await EndAsync(upload, description, errors) is (true, var total))
            {
                Assert.True(!exact || total == Enumerable.Range(run, StreamItems).Sum(n => (long)n), $"{description}: the upload summed to {total}.");
                succeeded++;
            }
        }

        // No call ran twice, whatever the fault did to the bytes that carried it.
        for (var i = 0; i < Calls; i++)
        {
            Assert.True(fixture.Service.AddCalls.GetValueOrDefault((run + i, 7)) <= 1, $"{description}: call {i} ran twice.");
        }

        await fixture.WaitUntilAsync(() => fixture.Server.ConnectionCount == 1, $"the server to let go of the damaged connection ({description})");
        var link = FaultLinkProvider.Instance.Opened(address);
        return new Outcome(description, succeeded, Calls + 2 - succeeded, link?.BytesSent ?? 0, link?.BytesReceived ?? 0, string.Join(", ", errors.Distinct()));
    }

    // The call's result, or not Ok when it failed with an RpcException; a hang past the bound fails the test.
    private static async Task<(bool Ok, T Value)> EndAsync<T>(Task<T> call, string description, List<string> errors)
    {
        try
        {
            return (true, await call.WaitAsync(Timeout));
        }
        catch (TimeoutException)
        {
            Assert.Fail($"{description}: a call did not end within {Timeout}.");
            throw;
        }
        catch (RpcException ex)
        {
            errors.Add(ex.StatusCode.ToString());
            return (false, default!);
        }
    }

    private static async Task<List<int>> CollectAsync(IAsyncEnumerable<int> items)
    {
        var list = new List<int>();
        await foreach (var item in items)
        {
            list.Add(item);
        }

        return list;
    }

    private static async IAsyncEnumerable<int> Numbers(int from, int count)
    {
        for (var i = 0; i < count; i++)
        {
            await Task.Yield();
            yield return from + i;
        }
    }

    private static async Task AssertStillServesAsync(TransportFixture fixture)
    {
        Assert.Equal(9, await fixture.Client.GetService<IScenarioService>().AddAsync(4, 5).AsTask().WaitAsync(Timeout));
        Assert.Equal("pong:x", await fixture.Client.GetService<IOtherService>().PingAsync("x").WaitAsync(Timeout));
    }
}
