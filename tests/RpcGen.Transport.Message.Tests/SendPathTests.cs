using MessagePack;

namespace RpcGen.Transport.Message.Tests;

/// <summary>
/// The send path under concurrency and back-pressure: over a plain socket frames go out as gathered
/// sends straight from their buffers, over other links through the link's output pipe; either way
/// every frame arrives whole and in order, and a peer that stops reading bounds what the server holds.
/// </summary>
[Collection(nameof(MeasuresMemory))]
public class SendPathTests
{
    private const ulong ScenarioServiceId = 0x5E57_0000_0000_0001;
    private const uint BlobMethod = 9;
    private static readonly TimeSpan Timeout = TimeSpan.FromSeconds(60);

    [Theory]
    [InlineData("tcp")]
    [InlineData("unix")]
    [InlineData("tls")]
    public async Task Sixty_four_callers_on_one_connection_get_their_own_answers_headers_and_streams_in_order(string transport)
    {
        // Many callers' frames leave in one send: a call's headers must stay right in front of its
        // request, answers must not be mixed up, and large answers and stream items must come whole
        // and in order between the small ones.
        const int Callers = 64;
        const int CallsEach = 60;
        await using var fixture = await MetadataTests.Fixture.StartAsync(transport);
        var metadata = fixture.Service;
        var scenario = fixture.Scenario;

        var callers = Enumerable.Range(0, Callers).Select(caller => Task.Run(async () =>
        {
            for (var i = 0; i < CallsEach; i++)
            {
                var tag = $"{caller}:{i}";
                switch (i % 4)
                {
                    case 0:
                        using (RpcMetadataScope.Begin().Add("caller", tag))
                        {
                            Assert.Equal(tag, await metadata.HeaderAsync("caller"));
                        }

                        break;
                    case 1 when caller % 8 == 0:
                        Assert.Equal(70_000 + i, (await scenario.BlobAsync(70_000 + i)).Length);
                        break;
                    default:
                        Assert.Equal(tag, (await scenario.EchoAsync(new Shape { Name = tag, Points = [new Point(caller, i)] })).Name);
                        break;
                }
            }
        })).ToList();
        var streams = Enumerable.Range(0, 2).Select(s => Task.Run(async () =>
            Assert.Equal(Enumerable.Range(s * 10_000, 3000), await fixture.Streaming.CountAsync(s * 10_000, 3000).ToListAsync()))).ToList();

        await Task.WhenAll(callers.Concat(streams)).WaitAsync(Timeout);
    }

    [Fact]
    public async Task A_peer_that_stops_reading_holds_the_server_to_its_limit_and_gets_every_answer_once_it_reads_again()
    {
        // 300 answers of 64 KiB (about 20 MB) for a peer that reads none of them for a while: the
        // server stops reading its calls once MaxPendingBytes is held (the bytes of a gathered send
        // the kernel has not taken still count), and when the peer reads again every answer arrives
        // whole, each call answered exactly once.
        const int Calls = 300;
        var limits = new RpcLimits { MaxPendingBytes = 256 * 1024 };
        await using var fixture = await TransportFixture.StartAsync("tcp", limits);
        await using var peer = await RawPeer.ConnectAsync(fixture.Address, receiveBufferSize: 4096);

        var payload = BlobSize(64 * 1024);
        var requests = new List<byte>();
        for (uint id = 1; id <= Calls; id++)
        {
            requests.AddRange(FrameParserTests.Frame(new FrameHeader(FrameKind.Request, 0, payload.Length, id, BlobMethod, ScenarioServiceId, 0), payload));
        }

        // The server stops reading part-way, so this send finishes only once the peer reads.
        var sending = peer.SendAsync([.. requests]);
        await fixture.Logs.WaitForAsync($"{peer.LocalAddress} stopped", TransportFixture.Timeout);
        await fixture.WaitUntilAsync(() => fixture.Server.PendingOutboundBytes >= limits.MaxPendingBytes, "the limit to fill");
        Assert.InRange(fixture.Server.PendingOutboundBytes, limits.MaxPendingBytes, limits.MaxPendingBytes + (Math.Max(8, ThreadPool.ThreadCount + 2) * 132 * 1024));

        var answered = new HashSet<uint>();
        while (answered.Count < Calls)
        {
            var frame = await peer.ReadCallFrameAsync().WaitAsync(Timeout);
            Assert.NotNull(frame);
            Assert.Equal(FrameKind.Response, frame.Value.Header.Kind);
            Assert.True(answered.Add(frame.Value.Header.CallId), $"Call {frame.Value.Header.CallId} was answered twice.");
            var reader = new MessagePackReader(frame.Value.Payload);
            Assert.Equal(64 * 1024, reader.ReadBytes()!.Value.Length);
        }

        await sending.WaitAsync(Timeout);
        Assert.Equal(Enumerable.Range(1, Calls).Select(i => (uint)i), answered.Order());
        await fixture.WaitUntilAsync(() => fixture.Server.PendingOutboundBytes == 0, "the answers to be sent");
    }

    private static byte[] BlobSize(int size) => RawPeer.Pack((ref MessagePackWriter w) =>
    {
        w.WriteArrayHeader(1);
        w.Write(size);
    });
}
