using System.Net.Sockets;
using RpcGen.Links;

namespace RpcGen.Runtime.Tests;

/// <summary>
/// What a socket link holds for bytes it received and the protocol has not consumed yet. Runs alone:
/// it measures the process's heap.
/// </summary>
[Collection(nameof(SocketLinkMemory))]
public class SocketLinkTests
{
    private static readonly TimeSpan Timeout = TimeSpan.FromSeconds(15);

    [Theory]
    [InlineData("tcp")]
    [InlineData("unix")]
    public async Task A_peer_dripping_one_byte_per_segment_pins_memory_in_proportion_to_the_bytes(string scheme)
    {
        // Before the fix every receive asked the pipe for a fresh 32 KiB buffer, so a peer sending
        // one byte per segment pinned about 32 KiB per byte of a frame in progress: 2,000 bytes
        // held ~64 MB. Now receives fill the free tail of the current segment.
        const int Drips = 2000;
        var address = scheme == "tcp" ? "tcp://127.0.0.1:0" : $"unix:{Path.Combine(Path.GetTempPath(), $"rpcgen-link-{Guid.NewGuid():N}.sock")}";
        await using var listener = RpcLinks.Listen(address);
        var accepting = listener.AcceptAsync().AsTask();
        using var dripper = scheme == "tcp" ? new Socket(SocketType.Stream, ProtocolType.Tcp) { NoDelay = true } : new Socket(AddressFamily.Unix, SocketType.Stream, ProtocolType.Unspecified);
        if (scheme == "tcp")
        {
            var parsed = RpcAddress.Parse(listener.Address);
            await dripper.ConnectAsync(parsed.Host, parsed.Port);
        }
        else
        {
            await dripper.ConnectAsync(new UnixDomainSocketEndPoint(address["unix:".Length..]));
        }

        await using var link = (await accepting.WaitAsync(Timeout))!;
        var before = GC.GetTotalMemory(forceFullCollection: true);

        // Each byte is sent alone and read by the link before the next is sent, so every byte is
        // its own receive; the protocol examines everything and consumes nothing, as a parser
        // waiting for the rest of a frame does.
        for (var i = 0; i < Drips; i++)
        {
            await dripper.SendAsync(new byte[] { (byte)i }, SocketFlags.None);
            var read = await link.Input.ReadAsync().AsTask().WaitAsync(Timeout);
            Assert.Equal(i + 1, read.Buffer.Length);
            link.Input.AdvanceTo(read.Buffer.Start, read.Buffer.End);
        }

        var held = GC.GetTotalMemory(forceFullCollection: true) - before;
        Assert.True(held < 256 * 1024, $"{Drips} bytes received one at a time hold {held:N0} bytes of heap.");
    }

    [Fact]
    public async Task A_bulk_sender_still_gets_large_receives()
    {
        // Sizing receives to what arrives must not cost bulk throughput: after a receive fills its
        // buffer the next one asks for a large buffer again.
        const int Total = 8 * 1024 * 1024;
        await using var listener = RpcLinks.Listen("tcp://127.0.0.1:0");
        var accepting = listener.AcceptAsync().AsTask();
        await using var client = await RpcLinks.ConnectAsync(listener.Address);
        await using var server = (await accepting.WaitAsync(Timeout))!;

        var sending = Task.Run(async () =>
        {
            var chunk = new byte[256 * 1024];
            for (var sent = 0; sent < Total; sent += chunk.Length)
            {
                await client.Output.WriteAsync(chunk);
            }
        });

        long received = 0;
        var largestSegment = 0;
        while (received < Total)
        {
            var read = await server.Input.ReadAsync().AsTask().WaitAsync(Timeout);
            foreach (var segment in read.Buffer)
            {
                largestSegment = Math.Max(largestSegment, segment.Length);
            }

            received += read.Buffer.Length;
            server.Input.AdvanceTo(read.Buffer.End);
        }

        await sending.WaitAsync(Timeout);
        Assert.Equal(Total, received);
        Assert.True(largestSegment >= 16 * 1024, $"The largest receive was {largestSegment} bytes.");
    }
}

/// <summary>Tests that measure the heap run alone.</summary>
[CollectionDefinition(nameof(SocketLinkMemory), DisableParallelization = true)]
public sealed class SocketLinkMemory;
