using System.Buffers;

namespace RpcGen.Transport.Message.Tests;

public class FrameParserTests
{
    private const int Limit = 1024;

    [Fact]
    public void Parses_a_whole_frame_and_reports_where_it_ends()
    {
        var bytes = Frame(new FrameHeader(FrameKind.Request, 0, 3, 42, 7, 0xABCDEF, 1500), [1, 2, 3]).Concat(new byte[] { 0x52 }).ToArray();

        var status = FrameParser.TryParse(new ReadOnlySequence<byte>(bytes), Limit, out var header, out var payload, out var consumed, out var error);

        Assert.Equal(FrameParseStatus.Frame, status);
        Assert.Null(error);
        Assert.Equal(new FrameHeader(FrameKind.Request, 0, 3, 42, 7, 0xABCDEF, 1500), header);
        Assert.Equal(new byte[] { 1, 2, 3 }, payload.ToArray());
        Assert.Equal(FrameHeader.Size + 3, new ReadOnlySequence<byte>(bytes).Slice(0, consumed).Length);
    }

    [Fact]
    public void A_frame_split_across_segments_parses_like_a_contiguous_one()
    {
        var bytes = Frame(new FrameHeader(FrameKind.Response, 0, 5, 9, 0, 0, 0), [9, 8, 7, 6, 5]);
        var sequence = RpcGen.Fuzz.SegmentedSequence.Of(bytes, 1, 7, 20, 31, 33);

        Assert.Equal(FrameParseStatus.Frame, FrameParser.TryParse(sequence, Limit, out var header, out var payload, out _, out _));
        Assert.Equal(9u, header.CallId);
        Assert.Equal(new byte[] { 9, 8, 7, 6, 5 }, payload.ToArray());
    }

    [Fact]
    public void Every_truncation_of_a_valid_frame_is_incomplete()
    {
        var bytes = Frame(new FrameHeader(FrameKind.Request, 0, 4, 1, 1, 1, 0), [1, 2, 3, 4]);
        for (var length = 0; length < bytes.Length; length++)
        {
            var status = FrameParser.TryParse(new ReadOnlySequence<byte>(bytes, 0, length), Limit, out _, out _, out _, out var error);
            Assert.True(status == FrameParseStatus.Incomplete, $"length {length}: {status} {error}");
        }
    }

    [Theory]
    [InlineData(new byte[] { 0x00 }, "magic")]
    [InlineData(new byte[] { 0x52, 0x00 }, "magic")]
    [InlineData(new byte[] { 0x52, 0x47, 0x00 }, "kind")]
    [InlineData(new byte[] { 0x52, 0x47, 0x63 }, "kind")] // 99: no such kind (14 is Hello)
    [InlineData(new byte[] { 0x52, 0x47, 0x10 }, "kind")] // 16: one past Metadata
    [InlineData(new byte[] { 0x52, 0x47, 0x0F, 0x40 }, "metadata frame sets flags")]
    [InlineData(new byte[] { 0x52, 0x47, 0x01, 0x20 }, "codec")] // reply codec 4: every flag bit is defined in version 1
    [InlineData(new byte[] { 0x52, 0x47, 0x01, 0x00, 0xFF, 0xFF, 0xFF, 0xFF }, "negative")]
    [InlineData(new byte[] { 0x52, 0x47, 0x01, 0x00, 0x01, 0x04, 0x00, 0x00 }, "over the limit")]
    public void Garbage_is_rejected_as_soon_as_the_bytes_that_show_it_arrive(byte[] prefix, string reason)
    {
        var status = FrameParser.TryParse(new ReadOnlySequence<byte>(prefix), Limit, out _, out _, out _, out var error);

        Assert.Equal(FrameParseStatus.Invalid, status);
        Assert.Contains(reason, error);
    }

    [Fact]
    public void A_length_over_the_limit_is_rejected_before_the_payload_arrives()
    {
        var header = new byte[FrameHeader.Size];
        new FrameHeader(FrameKind.Request, 0, Limit + 1, 1, 1, 1, 0).Write(header);

        var status = FrameParser.TryParse(new ReadOnlySequence<byte>(header), Limit, out _, out _, out _, out var error);

        Assert.Equal(FrameParseStatus.Invalid, status);
        Assert.Contains("MaxFrameBytes", error);
    }

    [Fact]
    public void A_metadata_frame_is_held_to_the_metadata_limit_before_its_payload_arrives()
    {
        var header = new byte[FrameHeader.Size];
        new FrameHeader(FrameKind.Metadata, 0, 257, 1, 0, 0, 0).Write(header);

        var status = FrameParser.TryParse(new ReadOnlySequence<byte>(header), Limit, maxMetadataBytes: 256, out _, out _, out _, out var error);

        Assert.Equal(FrameParseStatus.Invalid, status);
        Assert.Contains("MaxMetadataBytes", error);
    }

    [Fact]
    public void A_metadata_frame_within_its_limit_parses()
    {
        var bytes = Frame(new FrameHeader(FrameKind.Metadata, 0, 3, 5, 0, 0, 0), [0x92, 0xA0, 0xA0]);

        var status = FrameParser.TryParse(new ReadOnlySequence<byte>(bytes), Limit, maxMetadataBytes: 3, out var header, out _, out _, out _);

        Assert.Equal(FrameParseStatus.Frame, status);
        Assert.Equal(FrameKind.Metadata, header.Kind);
    }

    internal static byte[] Frame(FrameHeader header, byte[] payload)
    {
        var bytes = new byte[FrameHeader.Size + payload.Length];
        header.Write(bytes);
        payload.CopyTo(bytes, FrameHeader.Size);
        return bytes;
    }
}
