using System.Buffers;
using MessagePack;
using RpcGen.Benchmarks.Contracts;
using RpcGen.Benchmarks.Peers.Raw;

namespace RpcGen.Benchmarks.Tests;

/// <summary>The raw floor's hand-written codec writes what MessagePack-CSharp writes for the same DTOs.</summary>
public sealed class RawCodecTests
{
    [Fact]
    public void BenchmarkMessageIsAbout600BytesAndMatchesMessagePackCSharp()
    {
        var message = BenchData.CreateBenchmarkMessage();
        var buffer = new ArrayBufferWriter<byte>();
        var writer = new MessagePackWriter(buffer);
        RawCodec.Write(ref writer, message);
        writer.Flush();

        Assert.InRange(buffer.WrittenCount, 550, 650);
        Assert.Equal(MessagePackSerializer.Serialize(message), buffer.WrittenSpan.ToArray());

        var reader = new MessagePackReader(buffer.WrittenMemory);
        var read = RawCodec.ReadBenchmarkMessage(ref reader);
        Assert.Equivalent(message, read, strict: true);
    }

    [Fact]
    public void SmallMessageMatchesMessagePackCSharp()
    {
        var message = BenchData.CreateSmall();
        var buffer = new ArrayBufferWriter<byte>();
        var writer = new MessagePackWriter(buffer);
        RawCodec.Write(ref writer, message);
        writer.Flush();

        Assert.Equal(MessagePackSerializer.Serialize(message), buffer.WrittenSpan.ToArray());
    }
}
