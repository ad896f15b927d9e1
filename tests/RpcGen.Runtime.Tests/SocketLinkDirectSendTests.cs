using RpcGen.Links;

namespace RpcGen.Runtime.Tests;

/// <summary>
/// <see cref="RpcLink.SendDirectAsync"/>: a plain socket link sends a protocol's buffers as they are,
/// in one gathered send; links that cannot say so.
/// </summary>
public class SocketLinkDirectSendTests
{
    private static readonly TimeSpan Timeout = TimeSpan.FromSeconds(30);

    [Theory]
    [InlineData("tcp")]
    [InlineData("unix")]
    public async Task Gathered_sends_arrive_whole_and_in_order_and_output_written_afterwards_follows_them(string scheme)
    {
        // Batches of 1 to 300 ranges cut at odd offsets from one array, a few of them far larger than
        // the socket's buffer (so the kernel takes them in parts); then bytes through Output, which
        // the link sends as it closes.
        var source = new byte[1024 * 1024];
        for (var i = 0; i < source.Length; i++)
        {
            source[i] = (byte)((i * 7) + (i / 251));
        }

        var random = new Random(20);
        var batches = new List<List<ArraySegment<byte>>>();
        for (var b = 0; b < 400; b++)
        {
            var batch = new List<ArraySegment<byte>>();
            var count = b % 50 == 0 ? 300 : random.Next(1, 20);
            for (var s = 0; s < count; s++)
            {
                var length = b % 97 == 0 && s == 0 ? 600 * 1024 : random.Next(0, 3000);
                batch.Add(new ArraySegment<byte>(source, random.Next(0, source.Length - length), length));
            }

            batches.Add(batch);
        }

        byte[] tail = [1, 2, 3, 4, 5, 6, 7, 8];
        var expected = batches.SelectMany(batch => batch).Append(new ArraySegment<byte>(tail)).ToList();

        var address = scheme == "tcp" ? "tcp://127.0.0.1:0" : $"unix:{Path.Combine(Path.GetTempPath(), $"rpcgen-direct-{Guid.NewGuid():N}.sock")}";
        await using var listener = RpcLinks.Listen(address);
        var accepting = listener.AcceptAsync().AsTask();
        var client = await RpcLinks.ConnectAsync(listener.Address).AsTask().WaitAsync(Timeout);
        await using var server = (await accepting.WaitAsync(Timeout))!;
        Assert.True(client.CanSendDirect);

        var reading = Task.Run(() => ReadAllAsync(server, expected));
        foreach (var batch in batches)
        {
            await client.SendDirectAsync(batch).AsTask().WaitAsync(Timeout);
        }

        await client.Output.WriteAsync(tail).AsTask().WaitAsync(Timeout);
        await client.DisposeAsync().AsTask().WaitAsync(Timeout);

        Assert.Equal(expected.Sum(segment => (long)segment.Count), await reading.WaitAsync(Timeout));
    }

    [Fact]
    public async Task A_direct_send_to_a_peer_that_is_gone_fails_as_a_lost_connection()
    {
        await using var listener = RpcLinks.Listen("tcp://127.0.0.1:0");
        var accepting = listener.AcceptAsync().AsTask();
        await using var client = await RpcLinks.ConnectAsync(listener.Address).AsTask().WaitAsync(Timeout);
        var server = (await accepting.WaitAsync(Timeout))!;
        server.Abort();

        // The first sends may still be taken by the kernel; the reset the gone peer answers with
        // fails a later one.
        var chunk = new ArraySegment<byte>(new byte[64 * 1024]);
        var failure = await Assert.ThrowsAsync<RpcException>(async () =>
        {
            for (var i = 0; i < 10_000; i++)
            {
                await client.SendDirectAsync([chunk, chunk]).AsTask().WaitAsync(Timeout);
            }
        });

        Assert.Equal(RpcStatusCode.Disconnected, failure.StatusCode);
    }

    [Fact]
    public async Task Links_that_transform_or_copy_their_bytes_do_not_send_directly()
    {
        var (client, server) = RpcLinks.CreateMemoryPair();
        await using (client)
        await using (server)
        {
            Assert.False(client.CanSendDirect);
            await Assert.ThrowsAsync<NotSupportedException>(() => client.SendDirectAsync([new ArraySegment<byte>([1])]).AsTask());
        }
    }

    /// <summary>Reads until the end of the stream, checking every byte against <paramref name="expected"/>; returns the bytes read.</summary>
    private static async Task<long> ReadAllAsync(RpcLink link, List<ArraySegment<byte>> expected)
    {
        var segment = 0;
        var offset = 0;
        var total = 0L;
        while (true)
        {
            var read = await link.Input.ReadAsync();
            foreach (var memory in read.Buffer)
            {
                foreach (var value in memory.Span)
                {
                    while (segment < expected.Count && offset == expected[segment].Count)
                    {
                        segment++;
                        offset = 0;
                    }

                    if (segment == expected.Count)
                    {
                        Assert.Fail($"More bytes arrived than were sent (after {total:N0}).");
                    }

                    if (expected[segment][offset] != value)
                    {
                        Assert.Fail($"Byte {total:N0} differs from what was sent (range {segment}, offset {offset}).");
                    }

                    offset++;
                    total++;
                }
            }

            link.Input.AdvanceTo(read.Buffer.End);
            if (read.IsCompleted)
            {
                return total;
            }
        }
    }
}
