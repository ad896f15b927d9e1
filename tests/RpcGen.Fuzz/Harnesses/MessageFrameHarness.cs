using System.Buffers;
using System.Buffers.Binary;
using RpcGen.Compression;
using RpcGen.Fuzz.Seeds;
using RpcGen.Transport.Message;

namespace RpcGen.Fuzz.Harnesses;

/// <summary>
/// The message transport's reader: <see cref="FrameParser"/> over a stream of frames (split into
/// segments where the input says, so the sequence paths run too), then each frame's payload as the
/// connection reads it: hello, error/abort, metadata, and compressed payloads (LZ4, zstd, Snappy).
/// Documented rejections: <see cref="FrameParseStatus.Invalid"/>, <see cref="ProtocolViolation"/>,
/// an <see cref="InvalidDataException"/> from a codec, an <see cref="RpcException"/>.
/// </summary>
internal sealed class MessageFrameHarness : FuzzHarness
{
    // Smaller than the 4 MiB default so a hostile declared size costs the harness little; the checks are the same.
    private const int MaxFrameBytes = 64 * 1024;
    private const int MaxMetadataBytes = 8 * 1024;

    public override string Name => "message-frames";

    // A compressed frame may decode to MaxFrameBytes whatever its size: that is the limit working, not a bug.
    public override long AllocationBound(int inputLength) => base.AllocationBound(inputLength) + (2L * MaxFrameBytes);

    protected override void Parse(ReadOnlySpan<byte> input)
    {
        var buffer = StreamOf(input);
        while (!buffer.IsEmpty)
        {
            var status = FrameParser.TryParse(buffer, MaxFrameBytes, MaxMetadataBytes, out var header, out var payload, out var consumed, out var error);
            if (status == FrameParseStatus.Invalid)
            {
                FuzzCheck.That(error is not null, "an invalid frame comes with a reason");
                return;
            }

            if (status == FrameParseStatus.Incomplete)
            {
                var declared = FrameParser.DeclaredFrameBytes(buffer);
                FuzzCheck.That(declared <= FrameHeader.Size + MaxFrameBytes, "an incomplete frame that passed the checks declares at most the limit");
                return;
            }

            FuzzCheck.That(payload.Length == header.PayloadLength && header.PayloadLength <= MaxFrameBytes, "the payload is the declared length, within the limit");
            FuzzCheck.That(buffer.GetOffset(consumed) > buffer.GetOffset(buffer.Start), "a frame consumes bytes");
            try
            {
                ReadPayload(header, payload);
            }
            catch (Exception ex) when (ex is ProtocolViolation or InvalidDataException or RpcException)
            {
                // That frame's connection would be aborted with this reason; the stream goes no further.
                return;
            }

            buffer = buffer.Slice(consumed);
        }
    }

    private static void ReadPayload(in FrameHeader header, in ReadOnlySequence<byte> payload)
    {
        var codec = (RpcCompression)(header.Flags & (byte)FrameFlags.CodecMask);
        if (codec != RpcCompression.None)
        {
            Decompress(codec, payload);
            return;
        }

        switch (header.Kind)
        {
            case FrameKind.Hello:
                _ = HelloPayload.TryRead(payload, out _);
                break;
            case FrameKind.Error or FrameKind.Abort:
                FuzzCheck.That(ErrorPayload.Read(payload, maxDetailEntries: 64) is not null, "an error payload always reads as an exception");
                break;
            case FrameKind.Metadata:
                _ = MetadataPayload.Read(payload, maxEntries: 64, "headers");
                break;
        }
    }

    // The connection's order: the 4-byte uncompressed length, checked against the limit before the
    // output buffer is taken, then the codec into exactly that many bytes.
    private static void Decompress(RpcCompression codec, in ReadOnlySequence<byte> compressed)
    {
        if (compressed.Length < 4)
        {
            throw new ProtocolViolation("too short for its uncompressed length");
        }

        Span<byte> prefix = stackalloc byte[4];
        compressed.Slice(0, 4).CopyTo(prefix);
        var declared = BinaryPrimitives.ReadInt32LittleEndian(prefix);
        if (declared < 0 || declared > MaxFrameBytes)
        {
            throw new ProtocolViolation("declared uncompressed length over the limit");
        }

        var body = compressed.Slice(4).ToArray();
        var output = ArrayPool<byte>.Shared.Rent(declared);
        try
        {
            RpcCodecs.Decompress(codec, body, output.AsSpan(0, declared));
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(output);
        }
    }

    public override async Task<IReadOnlyList<FuzzSeed>> CaptureSeedsAsync()
    {
        await using var server = new RpcServer();
        server.AddService<IFuzzContract>(new FuzzContractService());
        await server.StartAsync("tcp://127.0.0.1:0");
        await using var relay = new CapturingRelay(CapturingRelay.EndPointOf(server.Addresses[0]));
        await using (var client = await RpcClient.ConnectAsync(relay.Address))
        {
            var remote = client.GetService<IFuzzContract>();
            await remote.StoreAsync(FuzzSamples.Record(1));
            await remote.EchoAsync(FuzzSamples.Envelope());
            foreach (var codec in new[] { RpcCompression.Lz4, RpcCompression.Zstd, RpcCompression.Snappy })
            {
                using (RpcCompressionScope.Use(codec))
                {
                    await remote.EchoAsync(FuzzSamples.Envelope());
                }
            }

            using (var scope = RpcMetadataScope.Begin())
            {
                scope.RequestHeaders.Add("tenant", "fuzz");
                scope.RequestHeaders.Add("trace-bin", new byte[] { 1, 2, 3 });
                await remote.StoreAsync(FuzzSamples.Record(2));
            }

            try
            {
                await remote.FailAsync("a failure for the capture");
            }
            catch (RpcException)
            {
                // The error frame is what the capture wants.
            }
        }

        await relay.DisposeAsync();
        // The leading 0 is the segment cut (none); see Parse.
        return
        [
            new FuzzSeed("client-to-server", [0, .. relay.ClientToServer]),
            new FuzzSeed("server-to-client", [0, .. relay.ServerToClient]),
        ];
    }
}
