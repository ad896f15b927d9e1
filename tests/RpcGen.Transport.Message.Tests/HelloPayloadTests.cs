using System.Buffers;

namespace RpcGen.Transport.Message.Tests;

/// <summary>The hello payload parser on its own: pure, hostile input checked before it is read.</summary>
public class HelloPayloadTests
{
    [Fact]
    public void A_hello_reads_back_what_was_written()
    {
        var written = new HelloPayload(HelloPayload.CurrentVersion, 0, 1024, 4096);

        Assert.Null(HelloPayload.TryRead(Bytes(written), out var read));

        Assert.Equal(written, read);
    }

    [Fact]
    public void Unknown_feature_bits_and_trailing_fields_of_a_later_version_are_kept_or_skipped_not_refused()
    {
        byte[] longer = [.. Bytes(new HelloPayload(9, ulong.MaxValue, 1024, 4096)).ToArray(), .. new byte[HelloPayload.MaxSize - HelloPayload.MinSize]];

        Assert.Null(HelloPayload.TryRead(new ReadOnlySequence<byte>(longer), out var read));

        Assert.Equal((9, ulong.MaxValue), (read.Version, read.Features));
    }

    [Theory]
    [InlineData(0, "shorter than the 24 bytes")]
    [InlineData(HelloPayload.MinSize - 1, "shorter than the 24 bytes")]
    [InlineData(HelloPayload.MaxSize + 1, "over the limit of 256 bytes")]
    public void A_length_out_of_bounds_is_refused_before_any_field_is_read(int length, string reason)
    {
        Assert.Contains(reason, HelloPayload.TryRead(new ReadOnlySequence<byte>(new byte[length]), out _));
    }

    [Fact]
    public void A_wrong_magic_or_a_limit_that_is_not_positive_is_refused()
    {
        var bytes = Bytes(new HelloPayload(1, 0, 1024, 4096)).ToArray();
        bytes[0] = (byte)'X';
        Assert.Contains("magic", HelloPayload.TryRead(new ReadOnlySequence<byte>(bytes), out _));

        Assert.Contains("not positive", HelloPayload.TryRead(Bytes(new HelloPayload(1, 0, 0, 4096)), out _));
        Assert.Contains("not positive", HelloPayload.TryRead(Bytes(new HelloPayload(1, 0, 1024, -5)), out _));
    }

    private static ReadOnlySequence<byte> Bytes(HelloPayload hello)
    {
        var buffer = new ArrayBufferWriter<byte>();
        hello.Write(buffer);
        return new ReadOnlySequence<byte>(buffer.WrittenMemory);
    }
}
