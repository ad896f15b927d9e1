using MessagePack;

namespace RpcGen.Transport.Message.Tests;

/// <summary>A peer that abuses metadata frames loses its connection with a clear reason; others go on.</summary>
public class MetadataHostileInputTests
{
    private const ulong ScenarioServiceId = 0x5E57_0000_0000_0001;
    private const uint AddMethodId = 2;
    private static readonly TimeSpan Timeout = TransportFixture.Timeout;

    private static byte[] Entries(int count) => RawPeer.Pack((ref MessagePackWriter w) =>
    {
        w.WriteArrayHeader(count * 2);
        for (var i = 0; i < count; i++)
        {
            w.Write($"k{i}");
            w.Write("v");
        }
    });

    [Fact]
    public async Task A_metadata_frame_declaring_more_than_the_limit_aborts_before_its_payload_is_buffered()
    {
        await using var fixture = await TransportFixture.StartAsync("tcp", new RpcLimits { MaxMetadataBytes = 1024 });
        await using var attacker = await RawPeer.ConnectAsync(fixture.Address);

        // Under MaxFrameBytes, over MaxMetadataBytes, and none of the payload is sent.
        var header = new byte[FrameHeader.Size];
        new FrameHeader(FrameKind.Metadata, 0, 64 * 1024, 1, 0, 0, 0).Write(header);
        await attacker.SendAsync(header);

        Assert.Contains("over the limit of 1024 bytes (RpcLimits.MaxMetadataBytes)", await attacker.ReadAbortReasonAsync(Timeout));
        await fixture.Logs.WaitForAsync("MaxMetadataBytes", Timeout);
        await AssertStillServing(fixture);
    }

    [Fact]
    public async Task A_metadata_frame_with_more_entries_than_the_limit_aborts_the_connection()
    {
        await using var fixture = await TransportFixture.StartAsync("tcp", new RpcLimits { MaxMetadataEntries = 4 });
        await using var attacker = await RawPeer.ConnectAsync(fixture.Address);

        await attacker.SendFrameAsync(FrameKind.Metadata, 1, 0, 0, Entries(5));
        await attacker.SendFrameAsync(FrameKind.Request, 1, AddMethodId, ScenarioServiceId, RawPeer.AddRequest(1, 2));

        Assert.Contains("5 metadata entries, over the limit of 4", await attacker.ReadAbortReasonAsync(Timeout));
        await AssertStillServing(fixture);
    }

    [Theory]
    [InlineData(FrameKind.Request, 2u)] // the next frame is for another call
    [InlineData(FrameKind.Ping, 1u)] // the next frame is not a request or an answer
    [InlineData(FrameKind.Metadata, 1u)] // a second block before the first was used
    public async Task Metadata_not_followed_by_its_own_call_aborts_the_connection(FrameKind next, uint nextCallId)
    {
        await using var fixture = await TransportFixture.StartAsync("tcp");
        await using var attacker = await RawPeer.ConnectAsync(fixture.Address);

        await attacker.SendFrameAsync(FrameKind.Metadata, 1, 0, 0, Entries(1));
        await attacker.SendFrameAsync(next, nextCallId, next == FrameKind.Request ? AddMethodId : 0, next == FrameKind.Request ? ScenarioServiceId : 0, next switch
        {
            FrameKind.Request => RawPeer.AddRequest(1, 2),
            FrameKind.Metadata => Entries(1),
            _ => [],
        });

        Assert.Contains("metadata must come immediately before the request, response or error of its call", await attacker.ReadAbortReasonAsync(Timeout));
        await AssertStillServing(fixture);
    }

    [Theory]
    [InlineData(new byte[] { 0x93, 0xA1, 0x6B, 0xA1, 0x76, 0xA1, 0x6B })] // ["k", "v", "k"]: an odd count
    [InlineData(new byte[] { 0x92, 0xA5, 0x6B, 0x2D, 0x62, 0x69, 0x6E, 0xA1, 0x76 })] // ["k-bin", "v"]: text under a binary key
    [InlineData(new byte[] { 0x92, 0x01, 0xA1, 0x76 })] // [1, "v"]: a key that is not a string
    [InlineData(new byte[] { 0x92, 0xA1, 0x20, 0xA1, 0x76 })] // [" ", "v"]: a key outside visible ASCII
    [InlineData(new byte[] { 0xDD, 0x7F, 0xFF, 0xFF, 0xFE })] // an array claiming 2^31 items
    public async Task Malformed_metadata_aborts_the_connection(byte[] payload)
    {
        await using var fixture = await TransportFixture.StartAsync("tcp");
        await using var attacker = await RawPeer.ConnectAsync(fixture.Address);

        await attacker.SendFrameAsync(FrameKind.Metadata, 1, 0, 0, payload);
        await attacker.SendFrameAsync(FrameKind.Request, 1, AddMethodId, ScenarioServiceId, RawPeer.AddRequest(1, 2));

        Assert.NotEmpty(await attacker.ReadAbortReasonAsync(Timeout));
        await AssertStillServing(fixture);
    }

    [Fact]
    public async Task Headers_sent_before_a_request_reach_the_call_on_the_raw_wire()
    {
        await using var fixture = await TransportFixture.StartAsync("tcp");
        await using var peer = await RawPeer.ConnectAsync(fixture.Address);

        await peer.SendFrameAsync(FrameKind.Metadata, 7, 0, 0, Entries(2));
        await peer.SendFrameAsync(FrameKind.Request, 7, AddMethodId, ScenarioServiceId, RawPeer.AddRequest(20, 22));

        var response = await peer.ReadFrameAsync().WaitAsync(Timeout);
        Assert.Equal(FrameKind.Response, response!.Value.Header.Kind);
        Assert.Equal(42, new MessagePackReader(response.Value.Payload).ReadInt32());
    }

    private static async Task AssertStillServing(TransportFixture fixture)
    {
        var other = await fixture.ConnectAsync();
        Assert.Equal(9, await other.GetService<IScenarioService>().AddAsync(4, 5).AsTask().WaitAsync(Timeout));
    }
}
