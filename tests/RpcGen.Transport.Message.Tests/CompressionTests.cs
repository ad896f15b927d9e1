using System.Buffers.Binary;
using System.Net;
using System.Net.Sockets;
using MessagePack;
using RpcGen.Compression;

namespace RpcGen.Transport.Message.Tests;

/// <summary>Per-message compression: the reader makes right, and bad compressed input is refused without over-allocating.</summary>
public class CompressionTests
{
    private const ulong ScenarioServiceId = 0x5E57_0000_0000_0001;
    private static readonly TimeSpan Timeout = TransportFixture.Timeout;

    public static TheoryData<RpcCompression> Codecs => new() { RpcCompression.Lz4, RpcCompression.Zstd, RpcCompression.Snappy };

    private static Shape Compressible() => new()
    {
        Name = string.Concat(Enumerable.Repeat("the quick brown fox jumps over the lazy dog ", 200)),
        Points = Enumerable.Range(0, 500).Select(i => new Point(i % 7, i % 5)).ToList(),
    };

    [Theory]
    [MemberData(nameof(Codecs))]
    public async Task Calls_round_trip_with_each_codec_set_on_the_connection(RpcCompression codec)
    {
        await using var fixture = await TransportFixture.StartAsync("tcp");
        var client = await fixture.ConnectAsync(new RpcClientOptions { Compression = codec });
        var shape = Compressible();

        var echoed = await client.GetService<IScenarioService>().EchoAsync(shape).WaitAsync(Timeout);

        Assert.Equal(shape.Name, echoed.Name);
        Assert.Equal(shape.Points, echoed.Points);
    }

    [Theory]
    [MemberData(nameof(Codecs))]
    public async Task A_scope_compresses_the_request_and_the_server_answers_in_kind(RpcCompression codec)
    {
        using var listener = new Socket(SocketType.Stream, ProtocolType.Tcp);
        listener.Bind(new IPEndPoint(IPAddress.Loopback, 0));
        listener.Listen(1);
        var (client, fakeServer) = await RawPeer.ConnectClientAsync(listener).WaitAsync(Timeout);
        await using var clientScope = client;
        await using var fakeServerScope = fakeServer;
        var shape = Compressible();
        var plainLength = RpcGen.Serialization.RpcSerializer.Serialize(shape, RpcGen.Serialization.RpcFormatter<Shape>.Instance).Length;

        Task<Shape> call;
        using (RpcCompressionScope.Use(codec))
        {
            call = client.GetService<IScenarioService>().EchoAsync(shape);
        }

        var request = (await fakeServer.ReadCallFrameAsync().WaitAsync(Timeout))!.Value;
        Assert.Equal((byte)codec, request.Header.Flags & 0x07);
        Assert.True(request.Payload.Length < plainLength / 4, $"{codec}: {request.Payload.Length} bytes for {plainLength}");

        // Answer with the same compressed bytes: a Shape envelope is [shape], so send the shape itself.
        var response = new byte[4 + RpcCodecs.MaxCompressedLength(codec, plainLength)];
        var plain = RpcGen.Serialization.RpcSerializer.Serialize(shape, RpcGen.Serialization.RpcFormatter<Shape>.Instance);
        BinaryPrimitives.WriteInt32LittleEndian(response, plain.Length);
        var written = RpcCodecs.TryCompress(codec, plain, response.AsSpan(4));
        await fakeServer.SendAsync(FrameParserTests.Frame(new FrameHeader(FrameKind.Response, (byte)codec, 4 + written, request.Header.CallId, 0, 0, 0), response[..(4 + written)]));

        Assert.Equal(shape.Name, (await call.WaitAsync(Timeout)).Name);
    }

    [Theory]
    [MemberData(nameof(Codecs))]
    public async Task Compressed_byte_streams_keep_flow_control_in_step(RpcCompression codec)
    {
        // Credit counts decompressed bytes on both sides; if either side counted wire bytes the
        // receiver would see the window violated and abort.
        const long size = 6 * 1024 * 1024;
        await using var fixture = await TransportFixture.StartAsync("tcp");
        var client = await fixture.ConnectAsync(new RpcClientOptions { Compression = codec });
        var service = client.GetService<IStreamingService>();

        Assert.Equal(PatternStream.Sha256Hex(size), await service.UploadAsync(new PatternStream(size)).WaitAsync(Timeout));
        await using var download = await service.DownloadAsync(size).WaitAsync(Timeout);
        using var sha = System.Security.Cryptography.SHA256.Create();
        Assert.Equal(PatternStream.Sha256Hex(size), Convert.ToHexString(await sha.ComputeHashAsync(download).WaitAsync(Timeout)));
    }

    [Fact]
    public async Task Payloads_under_the_threshold_go_raw()
    {
        using var listener = new Socket(SocketType.Stream, ProtocolType.Tcp);
        listener.Bind(new IPEndPoint(IPAddress.Loopback, 0));
        listener.Listen(1);
        var (client, fakeServer) = await RawPeer.ConnectClientAsync(listener, new RpcClientOptions { Compression = RpcCompression.Zstd }).WaitAsync(Timeout);
        await using var clientScope = client;
        await using var fakeServerScope = fakeServer;

        _ = client.GetService<IScenarioService>().AddAsync(1, 2);

        var flags = (await fakeServer.ReadCallFrameAsync().WaitAsync(Timeout))!.Value.Header.Flags;
        Assert.Equal(0, flags & 0x07);

        // The request still tells the server which codec to answer in.
        Assert.Equal((int)RpcCompression.Zstd, (flags & 0x38) >> 3);
    }

    [Fact]
    public async Task A_small_raw_request_gets_its_answer_in_the_codec_it_asked_for()
    {
        await using var fixture = await TransportFixture.StartAsync("tcp");
        await using var peer = await RawPeer.ConnectAsync(fixture.Address);
        var blobOf = RawPeer.Pack((ref MessagePackWriter w) =>
        {
            w.WriteArrayHeader(1);
            w.Write(100_000);
        });

        await peer.SendAsync(FrameParserTests.Frame(new FrameHeader(FrameKind.Request, (byte)RpcCompression.Lz4 << 3, blobOf.Length, 1, 9, ScenarioServiceId, 0), blobOf));
        var response = (await peer.ReadFrameAsync().WaitAsync(Timeout))!.Value;

        Assert.Equal(FrameKind.Response, response.Header.Kind);
        Assert.Equal((int)RpcCompression.Lz4, response.Header.Flags & 0x07);
        Assert.True(response.Payload.Length < 10_000, $"{response.Payload.Length} bytes for 100,000 zeros");
    }

    public static TheoryData<string, byte, byte[], string> BadCompressedFrames()
    {
        var plain = new byte[10_000];
        var lz4 = new byte[4 + RpcCodecs.MaxCompressedLength(RpcCompression.Lz4, plain.Length)];
        var n = RpcCodecs.TryCompress(RpcCompression.Lz4, plain, lz4.AsSpan(4));
        BinaryPrimitives.WriteInt32LittleEndian(lz4, plain.Length);
        var valid = lz4[..(4 + n)];

        var bomb = (byte[])valid.Clone();
        BinaryPrimitives.WriteInt32LittleEndian(bomb, int.MaxValue);
        var lies = (byte[])valid.Clone();
        BinaryPrimitives.WriteInt32LittleEndian(lies, plain.Length + 1);
        return new()
        {
            { "declared size over the limit", (byte)RpcCompression.Lz4, bomb, "over the limit" },
            { "truncated", (byte)RpcCompression.Lz4, valid[..(valid.Length / 2)], "Lz4" },
            { "declared size larger than the content", (byte)RpcCompression.Lz4, lies, "Lz4" },
            { "wrong codec", (byte)RpcCompression.Zstd, valid, "Zstd" },
            { "unknown codec id", 5, valid, "codec" },
            { "no room for the length", (byte)RpcCompression.Snappy, [1, 2], "too short" },
        };
    }

    [Theory]
    [MemberData(nameof(BadCompressedFrames))]
    public async Task Bad_compressed_input_aborts_that_connection_with_a_clear_reason(string what, byte codec, byte[] payload, string reason)
    {
        await using var fixture = await TransportFixture.StartAsync("tcp", new RpcLimits { MaxFrameBytes = 1 << 20 });
        await using var attacker = await RawPeer.ConnectAsync(fixture.Address);

        await attacker.SendAsync(FrameParserTests.Frame(new FrameHeader(FrameKind.Request, codec, payload.Length, 1, 2, ScenarioServiceId, 0), payload));
        var frames = await attacker.ReadUntilClosedAsync().WaitAsync(Timeout);

        var abort = Assert.Single(frames, f => f.Header.Kind == FrameKind.Abort);
        var (code, message) = RawPeer.ReadError(abort.Payload);
        Assert.Equal((int)RpcStatusCode.ProtocolError, code);
        Assert.True(message.Contains(reason, StringComparison.Ordinal), $"{what}: {message}");
        var other = await fixture.ConnectAsync();
        Assert.Equal(2, await other.GetService<IScenarioService>().AddAsync(1, 1).AsTask().WaitAsync(Timeout));
    }

    [Fact]
    public async Task A_compressed_control_frame_is_a_protocol_error()
    {
        await using var fixture = await TransportFixture.StartAsync("tcp");
        await using var attacker = await RawPeer.ConnectAsync(fixture.Address);

        await attacker.SendAsync(FrameParserTests.Frame(new FrameHeader(FrameKind.Cancel, (byte)RpcCompression.Lz4, 0, 1, 0, 0, 0), []));
        var frames = await attacker.ReadUntilClosedAsync().WaitAsync(Timeout);

        Assert.Contains("may be compressed", RawPeer.ReadError(Assert.Single(frames).Payload).Message);
    }
}
